"""The shapes of GoogLeNet: every layer's input and output, the depth the paper counts, and receptive fields.

Everything here reads a built model (forward hooks, module attributes); nothing is typed in
from the paper, so the notebook's numbers come from the network itself.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .blocks import BasicConv2d, Inception, NaiveInception
from .network import GoogLeNet
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
