"""Looking inside GoogLeNet: activation shapes, receptive fields, gradient norms, and common mistakes.

Everything here reads a built model (forward hooks, module attributes); nothing is typed in
from the paper, so the notebook's numbers come from the network itself.
"""

from __future__ import annotations

import socket
from typing import NamedTuple

import torch
import torch.nn.functional as F
from matplotlib import cbook
from PIL import Image
from torch import nn

from .blocks import BasicConv2d, Inception, NaiveInception
from .network import TORCHVISION, GoogLeNet
from .runtime import module_device
from .table1 import AUX


class LayerShapes(NamedTuple):
    """A top-level layer with the shapes (without batch) of its input and output."""

    name: str
    input: tuple[int, ...]
    output: tuple[int, ...]


def trace_shapes(model: GoogLeNet, size: int = 224) -> list[LayerShapes]:
    """Every top-level layer with its input and output shape, in the order forward() calls them.

    Recorded with forward hooks on one zero image in eval mode (so the aux heads are skipped);
    layers that are switched off (nn.Identity, e.g. LRN in torchvision's variant) are left out.
    """
    layers: list[LayerShapes] = []
    hooks = []
    for name, module in model.named_children():
        if module is None or isinstance(module, nn.Identity):
            continue

        def record(module: nn.Module, args: tuple, out: torch.Tensor, name: str = name) -> None:
            layers.append(LayerShapes(name, tuple(args[0].shape[1:]), tuple(out.shape[1:])))

        hooks.append(module.register_forward_hook(record))
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, model.in_channels, size, size, device=module_device(model)))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return layers


def forward_order(model: GoogLeNet, size: int = 224) -> list[tuple[str, tuple[int, ...]]]:
    """(name, output shape without batch) of every top-level layer, in the order forward() calls them."""
    return [(layer.name, layer.output) for layer in trace_shapes(model, size)]


def format_shapes(shapes: list[tuple[str, tuple[int, ...]]]) -> str:
    """The shapes as Table 1 prints them (H x W x C), with the number of values per image."""
    lines = [f"{'layer':<12} {'output (HxWxC)':>15} {'values':>9}"]
    for name, shape in shapes:
        c, *hw = shape
        text = "x".join(str(d) for d in (*hw, c))
        lines.append(f"{name:<12} {text:>15} {torch.Size(shape).numel():>9,}")
    return "\n".join(lines)


def depth(module: nn.Module, count_pools: bool = False) -> int:
    """Layers with parameters on the longest path through `module`, plus the pooling layers if count_pools."""
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        return 1
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)):
        return int(count_pools)
    if isinstance(module, (Inception, NaiveInception)):
        return max(depth(getattr(module, f"branch{i}"), count_pools) for i in (1, 2, 3, 4))
    return sum(depth(child, count_pools) for child in module.children())


def network_depth(model: GoogLeNet, count_pools: bool = False) -> int:
    """Depth of the main path (stem, nine modules, head) as the paper counts it: 22, or 27 with pooling."""
    return sum(depth(getattr(model, name), count_pools) for name, _ in forward_order(model))


def loss_depths(model: GoogLeNet) -> dict[str, int]:
    """Layers with parameters between the input and each loss: the main head and the two aux heads."""
    depths, total = {}, 0
    for name, _ in forward_order(model):
        total += depth(getattr(model, name))
        if name in ("inception4a", "inception4d") and model.aux1 is not None:
            head = "aux1" if name == "inception4a" else "aux2"
            depths[head] = total + depth(getattr(model, head))
    return {"main": total, **depths}


def towards_torchvision() -> list[tuple[str, int, int]]:
    """(option, parameters without aux heads, with them), switching TORCHVISION's options on one at a time.

    The models are built on the meta device: shapes only, no memory, no initialisation.
    """
    rows, kwargs = [], {}
    for option in [None, *TORCHVISION]:
        if option is not None:
            kwargs[option] = TORCHVISION[option]
        with torch.device("meta"):
            plain, with_aux = GoogLeNet(aux_logits=False, **kwargs), GoogLeNet(**kwargs)
        label = "paper" if option is None else f"+ {option}={TORCHVISION[option]!r}"
        rows.append((label, count_params(plain), count_params(with_aux)))
    return rows


# ---- Receptive fields ----


def _compose(first: tuple[int, int], second: tuple[int, int]) -> tuple[int, int]:
    """(receptive field, stride) of `second` applied after `first`, in `first`'s input pixels."""
    (r1, s1), (r2, s2) = first, second
    return r1 + (r2 - 1) * s1, s1 * s2


def geometry(module: nn.Module) -> tuple[int, int]:
    """(receptive field, stride) of a module, measured in pixels of its own input.

    A k x k window with stride s gives (k, s); layers in sequence compose; the parallel
    branches of an Inception module see as far as the widest branch. Padding does not
    change how far a unit can see, only where the window starts.
    """
    if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        k = nn.modules.utils._pair(module.kernel_size)[0]
        s = nn.modules.utils._pair(module.stride)[0]
        d = nn.modules.utils._pair(getattr(module, "dilation", 1))[0]
        return d * (k - 1) + 1, s
    if isinstance(module, (Inception, NaiveInception)):
        branches = [geometry(getattr(module, f"branch{i}")) for i in (1, 2, 3, 4)]
        return max(r for r, _ in branches), 1
    if isinstance(module, (nn.Sequential, BasicConv2d)):
        result = (1, 1)
        for child in module.children():
            result = _compose(result, geometry(child))
        return result
    if isinstance(module, (nn.ReLU, nn.BatchNorm2d, nn.LocalResponseNorm, nn.Dropout, nn.Identity)):
        return 1, 1  # per pixel (LRN mixes channels, not positions)
    raise TypeError(f"no receptive-field rule for {type(module).__name__}")


class ReceptiveField(NamedTuple):
    """Theoretical receptive field after a layer, in input pixels, and the input-pixel step between units."""

    name: str
    size: int
    stride: int


def receptive_fields(model: GoogLeNet, size: int = 224) -> list[ReceptiveField]:
    """Receptive field after every layer up to the last Inception module (the average pool then sees everything)."""
    rows, current = [], (1, 1)
    for name, _ in forward_order(model, size):
        if name == "avgpool":
            break
        current = _compose(current, geometry(getattr(model, name)))
        rows.append(ReceptiveField(name, *current))
    return rows


def padding_share(size: int, kernel: int) -> float:
    """Share of a k x k kernel's taps that land on zero padding, averaged over a size x size map ('same' padding)."""
    pad = kernel // 2
    inside = sum(min(i + pad, size - 1) - max(i - pad, 0) + 1 for i in range(size))
    return 1 - inside**2 / (size * size * kernel * kernel)


def pool_windows(size: int, pool: str) -> list[tuple[int, int]]:
    """Rows [start, end) each output row of the aux head's pool averages over, for a size x size input.

    "paper": 5x5 average pool with stride 3; "adaptive": torchvision's AdaptiveAvgPool2d((4, 4)).
    """
    if pool == "paper":
        k, s = AUX.pool_kernel, AUX.pool_stride
        return [(s * i, s * i + k) for i in range((size - k) // s + 1)]
    return [(i * size // 4, -(-(i + 1) * size // 4)) for i in range(4)]


# ---- Gradients and the auxiliary heads ----


def stage_names(model: GoogLeNet) -> list[str]:
    """The layers with weights along the main path: conv1, conv2, conv3, inception3a ... inception5b."""
    return [n for n, m in model.named_children() if n.startswith(("conv", "inception")) and m is not None]


class GradNorm(NamedTuple):
    """RMS gradient per parameter of one stage, from the main loss alone and with the aux losses added."""

    name: str
    main: float
    with_aux: float


def gradient_norms(
    model: GoogLeNet, images: torch.Tensor, labels: torch.Tensor, aux_weight: float = AUX.loss_weight
) -> list[GradNorm]:
    """One forward pass in training mode, then the gradient of each stage two ways.

    `main` is the gradient of the main cross entropy; `with_aux` adds aux_weight x the two
    auxiliary losses, the paper's training loss. Both come from the same forward pass (the
    same dropout masks), so the difference is exactly what the aux heads contribute. Each
    value is the root mean square over the stage's parameters (norm / sqrt(count)), so stages
    of different sizes compare fairly: conv1 has 9,472 parameters, inception5b 1.4 million.
    """
    if model.aux1 is None:
        raise ValueError("gradient_norms needs a model built with aux_logits=True")
    was_training = model.training
    names = stage_names(model)
    params = [list(getattr(model, n).parameters()) for n in names]
    flat = [p for group in params for p in group]
    try:
        out = model.train()(images)
        main = F.cross_entropy(out.logits, labels)
        aux = F.cross_entropy(out.aux1, labels) + F.cross_entropy(out.aux2, labels)
        g_main = torch.autograd.grad(main, flat, retain_graph=True)
        g_aux = torch.autograd.grad(aux, flat, allow_unused=True)
    finally:
        model.train(was_training)
    rows, i = [], 0
    for name, group in zip(names, params, strict=True):
        main_sq = with_sq = 0.0  # sums of squares in Python floats: float64 is missing on MPS
        for gm, ga in zip(g_main[i : i + len(group)], g_aux[i : i + len(group)], strict=True):
            total = gm if ga is None else gm + aux_weight * ga  # None: the aux heads do not reach this stage
            main_sq += gm.norm().item() ** 2
            with_sq += total.norm().item() ** 2
        count = sum(p.numel() for p in group)
        rows.append(GradNorm(name, (main_sq / count) ** 0.5, (with_sq / count) ** 0.5))
        i += len(group)
    return rows


def he_init(model: nn.Module) -> nn.Module:
    """He (Kaiming) normal initialisation of every convolution, zero biases: keeps ReLU activations from shrinking."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


def count_params(module: nn.Module | None) -> int:
    """Number of parameters (weights and biases) of a module; 0 for None."""
    return 0 if module is None else sum(p.numel() for p in module.parameters())


# ---- Pretrained weights ----


def load_pretrained_googlenet(timeout: float = 10.0) -> tuple[nn.Module, object] | None:
    """torchvision's ImageNet GoogLeNet and its weights enum, or None (with a message) when they cannot be had.

    The download gets `timeout` seconds per network operation, so an offline machine answers
    quickly; the previous socket timeout is restored afterwards.
    """
    import torchvision

    weights = torchvision.models.GoogLeNet_Weights.DEFAULT
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        model = torchvision.models.googlenet(weights=weights)
    except Exception as error:  # no network, a proxy, a half-written file: all mean "skip"
        print(f"Pretrained weights unavailable ({type(error).__name__}: {error}); skipping this part.")
        return None
    finally:
        socket.setdefaulttimeout(previous)
    return model, weights


def sample_photo() -> Image.Image | None:
    """Matplotlib's sample photo of Grace Hopper (ships with matplotlib), or None where it is missing."""
    try:
        with cbook.get_sample_data("grace_hopper.jpg") as file:
            return Image.open(file).convert("RGB")
    except (OSError, ValueError):
        print("matplotlib's sample photo grace_hopper.jpg is not installed here; skipping.")
        return None


@torch.no_grad()
def top_k(model: nn.Module, weights: object, image: Image.Image, k: int = 5) -> list[tuple[str, float]]:
    """The k most likely ImageNet labels and their probabilities, preprocessing `image` as `weights` prescribe."""
    batch = weights.transforms()(image).unsqueeze(0).to(module_device(model))
    probs = model.eval()(batch).softmax(dim=1)[0]
    values, indices = probs.topk(k)
    return [(weights.meta["categories"][i], p) for i, p in zip(indices.tolist(), values.tolist(), strict=True)]


# ---- Pitfalls: small broken versions of real code, each paired with its fix in the notebook ----


class ShadowedTrain(nn.Module):
    """Bug: a constructor flag named `train` replaces the method nn.Module.train."""

    def __init__(self, train: bool = True) -> None:
        super().__init__()
        self.train = train  # shadows nn.Module.train: model.train() / model.eval() now fail
        self.fc = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class AuxOnlyGoogLeNet(GoogLeNet):
    """Bug: in training mode forward() returns the aux logits and drops the main head's."""

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        out = super().forward(x)
        return (out.aux1, out.aux2) if self.training else out


def fuse_1x1(reduce: nn.Conv2d, conv: nn.Conv2d) -> nn.Conv2d:
    """The single k x k convolution equal to a 1x1 reduction followed by `conv` with no ReLU between.

    Exact away from the border; at the border the zero padding of `conv` meets the 1x1's
    bias, which the fused convolution pads with zeros too.
    """
    w1 = reduce.weight[:, :, 0, 0]  # (reduced, in)
    fused = nn.Conv2d(reduce.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding)
    with torch.no_grad():
        fused.weight.copy_(torch.einsum("orkl,ri->oikl", conv.weight, w1))
        fused.bias.copy_(conv.bias + torch.einsum("orkl,r->o", conv.weight, reduce.bias))
    return fused
