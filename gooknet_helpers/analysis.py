"""Looking inside a trained GoogLeNet (notebook 05): activations, branches switched off, aux heads, probes, Grad-CAM.

The measurements only; their figures are in `plots_analysis.py`.

Everything works through forward hooks that are removed when the work is done, so the model leaves every function
exactly as it came in: same parameters, same mode, no gradients left behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .blocks import Inception
from .data import batches
from .shapes import LayerShapes, trace_shapes

BRANCHES = ("branch1", "branch2", "branch3", "branch4")


def inception_modules(model: nn.Module) -> dict[str, Inception]:
    """The Inception modules in forward order, keyed by their attribute name ("inception3a" ... "inception5b")."""
    return {name: m for name, m in model.named_children() if isinstance(m, Inception)}


def branch_labels(module: Inception) -> tuple[str, ...]:
    """What each branch computes: "1x1", "3x3", "5x5" (or "3x3" in torchvision's variant), "pool"."""
    k = module.branch3[-1].conv.kernel_size[0]
    return ("1x1", "3x3", f"{k}x{k}", "pool")


def short(name: str) -> str:
    """The module's name as Table 1 writes it: inception3a -> 3a."""
    return name.removeprefix("inception")


def have_images(data: object | None) -> bool:
    """True if the images were loaded; otherwise print the one line saying that this cell needs them."""
    if data is None:
        print("skipped: this cell needs the CIFAR-10 images (see section 1)")
    return data is not None


# ---- Arguments: one sentence for a bad one ----


def check_images(images: object, where: str, uint8: bool = True) -> None:
    """TypeError or ValueError, one sentence, unless `images` is a non-empty (N, 3, H, W) tensor: uint8 pixels
    where the helper standardises them itself (`uint8`), float (already standardised) otherwise."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{where} takes the images as a torch.Tensor (N, 3, H, W), not a {type(images).__name__}.")
    if images.dim() != 4 or len(images) == 0:
        raise ValueError(
            f"{where} needs at least one image, as an (N, 3, H, W) tensor; got shape {tuple(images.shape)}."
        )
    if uint8 and images.dtype != torch.uint8:
        raise TypeError(
            f"{where} takes uint8 images (as data.test_images holds them) and standardises them itself; got "
            f"{str(images.dtype).removeprefix('torch.')}, which would be standardised twice."
        )
    if not uint8 and not images.is_floating_point():
        raise TypeError(
            f"{where} takes standardised float images: pass normalize(images), not "
            f"{str(images.dtype).removeprefix('torch.')}."
        )


def check_batch_size(batch_size: object, where: str) -> None:
    """ValueError, one sentence, unless `batch_size` is a whole number >= 1."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"{where}: batch_size must be a whole number >= 1, got {batch_size!r}.")


def check_fraction(fraction: object, where: str) -> None:
    """ValueError, one sentence, unless `fraction` is a number > 0 and <= 1."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ValueError(
            f"{where}: fraction is the share of pixels to blank, > 0 and <= 1 (0.2 = 20%), got {fraction!r}."
        )


def check_layer(model: nn.Module, layer: object, where: str) -> nn.Module:
    """`layer` if it is one of `model`'s modules (a name such as "inception4e" is looked up); else ValueError, one
    sentence naming the layers it could be."""
    if isinstance(layer, str):
        found = dict(model.named_modules()).get(layer)
        if found is not None:
            return found
    elif isinstance(layer, nn.Module) and any(m is layer for m in model.modules()):
        return layer
    names = ", ".join(n for n, m in model.named_children() if isinstance(m, nn.Module))
    shown = repr(layer) if isinstance(layer, str) else type(layer).__name__
    raise ValueError(
        f"{where}: the layer ({shown}) is not a part of this model; pass one of its modules, e.g. "
        f"model.inception4e, or its name. Its layers: {names}."
    )


# ---- Hooks: record, switch off, run the rest ----


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """The model in eval mode inside the `with` block; its previous mode comes back on exit, even after an error."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@contextmanager
def capture(modules: dict[str, nn.Module], inputs: bool = False) -> Iterator[dict[str, torch.Tensor]]:
    """Record the output (or with `inputs=True` the input) of each named module during the forward passes run
    inside the `with` block; the latest pass wins. The hooks are removed on leaving the block."""
    recorded: dict[str, torch.Tensor] = {}
    hooks = []
    for name, module in modules.items():
        if inputs:
            hook = module.register_forward_pre_hook(lambda m, args, name=name: recorded.__setitem__(name, args[0]))
        else:
            hook = module.register_forward_hook(lambda m, args, out, name=name: recorded.__setitem__(name, out))
        hooks.append(hook)
    try:
        yield recorded
    finally:
        for hook in hooks:
            hook.remove()


@contextmanager
def switch_off(module: Inception, branch: str) -> Iterator[None]:
    """Inside the `with` block, `module`'s `branch` ("branch1" ... "branch4") outputs zeros: the concatenation
    keeps its shape, the branch's channels carry nothing. Its weights are not touched; the hook goes on exit."""
    hook = getattr(module, branch).register_forward_hook(lambda m, args, out: torch.zeros_like(out))
    try:
        yield
    finally:
        hook.remove()


def run_from(model: nn.Module, layers: list[LayerShapes], start: str, x: torch.Tensor) -> torch.Tensor:
    """The rest of the eval-mode forward pass: layer `start` (given its input `x`), every later layer, the logits.

    `layers` is `shapes.trace_shapes(model, size)`: the order in which forward() calls the layers, with their input
    shapes (so the flatten before the classifier happens where forward() does it).
    """
    names = [layer.name for layer in layers]
    for layer in layers[names.index(start) :]:
        x = getattr(model, layer.name)(x.reshape(len(x), *layer.input))
    return x


# ---- Branches switched off, one at a time ----


class Ablation(NamedTuple):
    """Which test images the model gets right with all branches on, and with each branch switched off."""

    modules: list[str]  # "3a" ... "5b"
    branches: tuple[str, ...]  # "1x1", "3x3", "5x5", "pool"
    clean: torch.Tensor  # (N,) bool
    ablated: torch.Tensor  # (modules, branches, N) bool

    @property
    def accuracy(self) -> float:
        return self.clean.float().mean().item()

    def drops(self) -> torch.Tensor:
        """(modules, branches) accuracy drop in percentage points when that one branch is switched off."""
        return 100 * (self.clean.float().mean() - self.ablated.float().mean(-1))

    def standard_errors(self) -> torch.Tensor:
        """(modules, branches) standard error of each drop, in points, for paired outcomes on the same images:
        only the images that change (right -> wrong or wrong -> right) carry information.

        It measures how much the drop would move with another sample of test images, for this one trained network;
        how much it would move with another training run (another seed) it cannot say."""
        diff = self.clean.float() - self.ablated.float()  # +1, 0 or -1 per image
        return 100 * diff.std(-1, correction=1) / diff.shape[-1] ** 0.5


@torch.no_grad()
def ablate_branches(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 250, progress: bool = True
) -> Ablation:
    """Test every Inception branch by switching it off (`switch_off`), one at a time, on the uint8 `images`.

    Work is shared: per batch the clean pass records each module's output once. A branch switched off outputs
    zeros, so the module's output is the recorded one with that branch's channels set to 0 (its place in the
    concatenation); each ablation re-runs only the layers after the module (`run_from`), not the stem, the earlier
    modules or the module itself. On a CPU that takes about a third less time than re-running the module with a
    hook; running a module's four ablations as one batch four times as large, or batches of 500, was slower
    (measured on notebook 05's reference network, one core).
    """
    check_images(images, "ablate_branches")
    check_batch_size(batch_size, "ablate_branches")
    modules = inception_modules(model)
    layers = trace_shapes(model, images.shape[-1])
    after = {layers[i].name: layers[i + 1].name for i in range(len(layers) - 1)}  # the layer that reads each output
    channels = {name: branch_channels(module) for name, module in modules.items()}
    clean, ablated = [], []
    steps = -(-len(labels) // batch_size)
    loader = tqdm(batches(images, labels, batch_size), total=steps, desc="switching branches off", disable=not progress)
    with evaluating(model):
        for x, y in loader:
            with capture(modules) as outputs:
                clean.append(model(x).argmax(1) == y)
            per_module = []
            for name in modules:
                per_branch = []
                for part in channels[name]:
                    off = outputs[name].clone()
                    off[:, part] = 0  # the branch's channels carry nothing, as with switch_off
                    per_branch.append(run_from(model, layers, after[name], off).argmax(1) == y)
                per_module.append(torch.stack(per_branch))
            ablated.append(torch.stack(per_module))
    first = next(iter(modules.values()))
    return Ablation([short(n) for n in modules], branch_labels(first), torch.cat(clean), torch.cat(ablated, -1))


def damage_share(drops: torch.Tensor, branches: tuple[int, ...] = (1, 2)) -> torch.Tensor:
    """(modules,) share of each module's damage that switching off `branches` does (default: the 3x3 and 5x5):
    their drops over the sum of all its drops, a drop below 0 (removal helps) counting as 0. NaN where no branch's
    removal costs anything: with nothing lost there is nothing to share, and 0 would claim the large kernels do
    none of the damage."""
    lost = drops.clamp(min=0)
    total = lost.sum(1)
    share = lost[:, list(branches)].sum(1) / total.clamp(min=1e-12)
    return torch.where(total > 0, share, torch.full_like(share, float("nan")))


def branch_channels(module: Inception) -> list[slice]:
    """Where each branch's channels lie in the module's output: the four concatenated in order."""
    widths = [_out_channels(getattr(module, branch)) for branch in BRANCHES]
    starts = [sum(widths[:i]) for i in range(len(widths) + 1)]
    return [slice(a, b) for a, b in zip(starts, starts[1:], strict=False)]


# ---- First-layer filters ----


def filter_shares(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each filter (out, 3, k, k): the share of its squared weights in its grey part (the same kernel on R, G
    and B: it sees brightness, not colour) and in its flat part (the same weight at every tap: it sees colour,
    not shape). Filters of random weights average 1/3 and 1/k^2."""
    w = weight.detach().float()
    energy = w.pow(2).sum((1, 2, 3))
    grey = w.mean(1, keepdim=True).expand_as(w).pow(2).sum((1, 2, 3))
    flat = w.mean((2, 3), keepdim=True).expand_as(w).pow(2).sum((1, 2, 3))
    return grey / energy, flat / energy


# ---- Activations: what each branch sends on ----


@torch.no_grad()
def branch_energy(model: nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """(modules, 4) mean over images of the sum of squares of each branch's output: how much signal each branch
    puts into the concatenation the next layer reads."""
    check_images(images, "branch_energy")
    check_batch_size(batch_size, "branch_energy")
    hooked = {f"{n}.{b}": getattr(m, b) for n, m in inception_modules(model).items() for b in BRANCHES}
    labels = torch.zeros(len(images), dtype=torch.long, device=images.device)  # batches() wants labels; unused
    total = torch.zeros(len(hooked))
    with evaluating(model), capture(hooked) as outputs:
        for x, _ in batches(images, labels, batch_size):
            model(x)
            total += torch.stack([outputs[key].float().pow(2).sum().cpu() for key in hooked])
    return (total / len(images)).view(-1, len(BRANCHES)).cpu()


def channel_shares(model: nn.Module) -> torch.Tensor:
    """(modules, 4) share of each module's output channels that each branch makes (from the architecture)."""
    rows = []
    for module in inception_modules(model).values():
        counts = [_out_channels(getattr(module, b)) for b in BRANCHES]
        rows.append(torch.tensor(counts, dtype=torch.float) / sum(counts))
    return torch.stack(rows)


def _out_channels(branch: nn.Module) -> int:
    return [m for m in branch.modules() if isinstance(m, nn.Conv2d)][-1].out_channels


# ---- Classifiers halfway up: aux heads and linear probes ----


class Readout(NamedTuple):
    """What one pass over a set of images gives: main logits, aux-head logits, pooled features per layer."""

    logits: torch.Tensor  # (N, classes)
    aux: dict[str, torch.Tensor]  # "aux1", "aux2" -> (N, classes); empty without aux heads
    features: dict[str, torch.Tensor]  # layer name -> (N, C), the layer's output averaged over its positions


def probe_layers(model: nn.Module) -> list[str]:
    """The stem's last convolution and every Inception module: where the probes read the network."""
    return ["conv3", *inception_modules(model)]


@torch.no_grad()
def read_out(model: nn.Module, images: torch.Tensor, batch_size: int = 500, progress: bool = True) -> Readout:
    """One eval-mode pass over the uint8 `images`: logits, the aux heads' logits (each head called in eval mode on
    the features it is attached to: inception4a's and inception4d's outputs) and pooled features for the probes."""
    check_images(images, "read_out")
    check_batch_size(batch_size, "read_out")
    names = probe_layers(model)
    logits, aux, features = [], {"aux1": [], "aux2": []}, {n: [] for n in names}
    labels = torch.zeros(len(images), dtype=torch.long, device=images.device)
    steps = -(-len(images) // batch_size)
    loader = tqdm(batches(images, labels, batch_size), total=steps, desc="reading out", disable=not progress)
    with evaluating(model), capture({n: model.get_submodule(n) for n in names}) as outputs:
        for x, _ in loader:
            logits.append(model(x).float())
            for name in names:
                features[name].append(outputs[name].float().mean((2, 3)))
            if model.aux1 is not None:
                aux["aux1"].append(model.aux1(outputs["inception4a"]).float())
                aux["aux2"].append(model.aux2(outputs["inception4d"]).float())
    return Readout(
        torch.cat(logits).cpu(),
        {k: torch.cat(v).cpu() for k, v in aux.items() if v},
        {k: torch.cat(v).cpu() for k, v in features.items()},
    )


def linear_probe(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    weight_decay: float = 1e-3,
    steps: int = 100,
) -> tuple[float, float]:
    """Train and test accuracy of a multinomial logistic regression on standardised features.

    Full-batch L-BFGS from zero weights, so the result depends only on the features. `weight_decay` is an L2
    penalty on the weights (keeps the probe from memorising a small training slice).
    """
    if len(train_x) < 2 or len(test_x) == 0 or len(train_x) != len(train_y) or len(test_x) != len(test_y):
        raise ValueError(
            f"linear_probe needs at least 2 training and 1 test feature rows, each with its label; got "
            f"{len(train_x)} / {len(train_y)} training and {len(test_x)} / {len(test_y)} test (features / labels)."
        )
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    probe = nn.Linear(train_x.shape[1], int(max(train_y.max(), test_y.max())) + 1)
    nn.init.zeros_(probe.weight)
    nn.init.zeros_(probe.bias)
    optimizer = torch.optim.LBFGS(probe.parameters(), lr=1, max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(probe(train_x), train_y) + weight_decay * probe.weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    with torch.no_grad():
        return tuple((probe(x).argmax(1) == y).float().mean().item() for x, y in ((train_x, train_y), (test_x, test_y)))


# ---- Where it looks: Grad-CAM ----


def grad_cam(
    model: nn.Module, layer: nn.Module, images: torch.Tensor, targets: torch.Tensor | None = None
) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al. 2017, arXiv:1610.02391) of `layer` for normalised `images` (N, 3, H, W).

    Each channel of the layer's output is weighted by the mean gradient of the target class's logit over its
    positions; the weighted sum, with negatives set to 0, is upsampled to the image and scaled to a maximum of 1.
    `targets`: the class per image (default: the predicted one). Returns (N, H, W) maps in [0, 1]. Only the
    layer's output gets a gradient (`torch.autograd.grad`), so no parameter's `.grad` changes; the hook is removed.
    `layer` may be given by name ("inception4e"); one that is not in the model is a one-sentence ValueError.
    """
    layer = check_layer(model, layer, "grad_cam")
    check_images(images, "grad_cam", uint8=False)
    with evaluating(model), torch.enable_grad(), capture({"layer": layer}) as outputs:
        logits = model(images)
        activation = outputs["layer"]
        targets = logits.argmax(1) if targets is None else targets
        (grads,) = torch.autograd.grad(logits.gather(1, targets[:, None]).sum(), activation)
    weights = grads.mean((2, 3), keepdim=True)  # (N, C, 1, 1): how much each channel raises the class score
    cam = F.relu((weights * activation).sum(1, keepdim=True)).detach()
    cam = F.interpolate(cam, size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    return cam / cam.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]


def top_pixels(maps: torch.Tensor, fraction: float) -> torch.Tensor:
    """A (N, H, W) mask of exactly `fraction` of each map's pixels (at least one): those where it is highest. Ties
    go by position, the first in reading order first, so a map that is 0 almost everywhere (Grad-CAM's ReLU makes
    such maps) still loses only its share of pixels, not every pixel at the threshold."""
    flat = maps.flatten(1)
    k = max(1, round(fraction * flat.shape[1]))
    order = flat.argsort(dim=1, descending=True, stable=True)[:, :k]
    return torch.zeros_like(flat, dtype=torch.bool).scatter_(1, order, True).view_as(maps)


@torch.no_grad()
def blank_top(
    model: nn.Module, images: torch.Tensor, maps: torch.Tensor, targets: torch.Tensor, fraction: float = 0.2
) -> torch.Tensor:
    """Probability of class `targets` after setting the `fraction` of pixels where `maps` is highest to 0 (the
    mean image, for normalised input). A saliency map that points at what matters should make it fall."""
    check_fraction(fraction, "blank_top")
    kept = (~top_pixels(maps, fraction)).unsqueeze(1).to(images.dtype)
    with evaluating(model):
        probs = model(images * kept).softmax(1)
    return probs.gather(1, targets[:, None])[:, 0]


class DeletionCheck(NamedTuple):
    """Mean probability of the predicted class: as is, with the map's top pixels blanked, with another image's; and
    the margin between the two blankings with its standard error over the images."""

    original: float
    own_map: float
    other_map: float
    margin: float  # own_map - other_map: below 0 when the image's own map removes more of what the decision needs
    margin_se: float  # standard error of the margin: paired per image, so only the images' own differences count


def deletion_check(
    model: nn.Module, layer: nn.Module, images: torch.Tensor, fraction: float = 0.2, batch_size: int = 100
) -> DeletionCheck:
    """Does Grad-CAM point at what the decision needs? Blank the `fraction` of pixels it rates highest and see the
    predicted class's probability fall; as a control, blank as many pixels chosen by the map of another image (the
    next one in the batch), a region of the same kind that has nothing to do with this image."""
    layer = check_layer(model, layer, "deletion_check")
    check_images(images, "deletion_check")
    check_batch_size(batch_size, "deletion_check")
    check_fraction(fraction, "deletion_check")
    per_image = []  # (original, own, other) for each image
    labels = torch.zeros(len(images), dtype=torch.long, device=images.device)  # batches() wants labels; unused
    for x, _ in batches(images, labels, batch_size):
        maps = grad_cam(model, layer, x)
        with torch.no_grad(), evaluating(model):
            original, predicted = model(x).softmax(1).max(1)
        own = blank_top(model, x, maps, predicted, fraction)
        other = blank_top(model, x, maps.roll(1, 0), predicted, fraction)
        per_image.append(torch.stack([original, own, other], 1).float().cpu())
    values = torch.cat(per_image)
    margins = values[:, 1] - values[:, 2]
    se = margins.std(correction=1).item() / len(margins) ** 0.5 if len(margins) > 1 else float("nan")
    return DeletionCheck(*values.mean(0).tolist(), margins.mean().item(), se)
