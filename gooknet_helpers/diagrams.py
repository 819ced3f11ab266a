"""Figures drawn from the modules themselves: Figure 2 (one Inception module), Figure 3 (the whole network), one
auxiliary head, and the multi-scale windows of notebook 01.

Every label is read from the object it is given (kernel sizes, strides, channels, and output shapes from a forward
pass), so a changed width, kernel or head changes the drawing. Each function returns a matplotlib `Figure` made
without pyplot, so it works in tests and off the main thread; in a notebook, a returned Figure displays itself.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Patch, Rectangle
from torch import nn

# The colours of plots.py's bar charts, so a branch has one colour in every picture.
BRANCH_COLORS = {"1x1": "#8fbfe0", "3x3": "#f2c57c", "5x5": "#e58f8f", "pool": "#a6d49f", "io": "#d9d9d9"}
REDUCTION_COLOR = "#c9b3e6"  # 1x1 reductions and pool projections: what Figure 2(b) adds to 2(a)
AUX_COLOR, AUX_EDGE = "#ffd166", "#b8860b"
# Figure 3's boxes; the fully connected layer and the Inception modules have colours of their own, so that neither
# looks like a convolution of the key (3x3 orange, 1x1 blue).
LAYER_COLORS = {"inception": "#80cbc4", "naive": "#e58f8f", "pool": BRANCH_COLORS["pool"], "fc": "#f4b6c2"}
PLAIN, EDGE = "#eeeeee", "#444444"
AUX_HOSTS = {"aux1": "inception4a", "aux2": "inception4d"}  # where GoogLeNet.forward feeds each auxiliary head
KERNEL_COLORS = {1: BRANCH_COLORS["1x1"], 3: BRANCH_COLORS["3x3"], 5: BRANCH_COLORS["5x5"]}


# ---- Reading layers ----


def _conv(unit: nn.Module) -> nn.Conv2d | None:
    """The Conv2d of a conv block (BasicConv2d: conv [+ BN] + ReLU) or of a bare Conv2d; None for anything else."""
    if isinstance(unit, nn.Conv2d):
        return unit
    conv = getattr(unit, "conv", None)
    return conv if isinstance(conv, nn.Conv2d) else None


def _units(module: nn.Module) -> list[nn.Module]:
    """The boxes of one branch in forward order: conv blocks and pools (ReLU and BatchNorm live inside a box)."""
    if _conv(module) is not None or isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
        return [module]
    if isinstance(module, nn.Sequential):
        return [unit for child in module for unit in _units(child)]
    return []


def _pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _window(kernel: int | tuple[int, ...], stride: int | tuple[int, ...]) -> str:
    """'3x3' or, with a stride above 1, '3x3/2' (Table 1's notation)."""
    (kh, kw), s = _pair(kernel), _pair(stride)[0]
    return f"{kh}x{kw}" + (f"/{s}" if s > 1 else "")


def _is_inception(module: nn.Module) -> bool:
    return all(hasattr(module, f"branch{i}") for i in range(1, 5))


def _branches(module: nn.Module) -> list[list[nn.Module]]:
    return [_units(getattr(module, f"branch{i}")) for i in range(1, 5)]


def _role(branch: list[nn.Module], j: int) -> str:
    """'reduce' for a 1x1 conv feeding a conv, 'proj' for a 1x1 conv after a pool, else 'conv' or 'pool'."""
    conv = _conv(branch[j])
    if conv is None:
        return "pool"
    if _pair(conv.kernel_size) == (1, 1) and j + 1 < len(branch) and _conv(branch[j + 1]) is not None:
        return "reduce"
    if _pair(conv.kernel_size) == (1, 1) and j > 0 and _conv(branch[j - 1]) is None:
        return "proj"
    return "conv"


def _has_reductions(module: nn.Module) -> bool:
    """Figure 2(b): a 1x1 conv reduces the channels before a larger conv (a pool projection alone is not enough)."""
    return any(_role(b, j) == "reduce" for b in _branches(module) for j in range(len(b)))


def _batch_norm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.BatchNorm2d) for m in module.modules())


def _layer_label(module: nn.Module, name: str = "") -> str:
    """One line naming a layer as the paper does: '7x7/2 conv, 64', '3x3/2 max pool', 'FC 1000', 'inception 3a'."""
    conv = _conv(module)
    if conv is not None:
        return f"{_window(conv.kernel_size, conv.stride)} conv, {conv.out_channels}"
    if _is_inception(module):
        return ("inception " if _has_reductions(module) else "naive ") + name.removeprefix("inception")
    if isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
        kind = "max" if isinstance(module, nn.MaxPool2d) else "avg"
        return f"{_window(module.kernel_size, module.stride)} {kind} pool"
    if isinstance(module, nn.AdaptiveAvgPool2d):
        size = _pair(module.output_size)
        return "global avg pool" if size == (1, 1) else f"adaptive avg pool to {size[0]}x{size[1]}"
    if isinstance(module, nn.LocalResponseNorm):
        return f"LRN (size {module.size})"
    if isinstance(module, nn.Dropout):
        return f"dropout {module.p:g}"
    if isinstance(module, nn.Linear):
        return f"FC {module.out_features}"
    return type(module).__name__


def _layer_color(module: nn.Module) -> str:
    if _is_inception(module):
        return LAYER_COLORS["inception" if _has_reductions(module) else "naive"]
    if isinstance(module, nn.MaxPool2d | nn.AvgPool2d | nn.AdaptiveAvgPool2d):
        return LAYER_COLORS["pool"]
    if isinstance(module, nn.Linear):
        return LAYER_COLORS["fc"]
    conv = _conv(module)
    return KERNEL_COLORS.get(_pair(conv.kernel_size)[0], PLAIN) if conv is not None else PLAIN


def _layer_kind(module: nn.Module) -> str:
    """What a Figure 3 box is, for the colour key: "3x3 conv", "pooling", "Inception module", ..."""
    conv = _conv(module)
    if conv is not None:
        return f"{_window(conv.kernel_size, 1)} conv"
    if _is_inception(module):
        return "Inception module (Figure 2b)" if _has_reductions(module) else "naive Inception module (Figure 2a)"
    if isinstance(module, nn.MaxPool2d | nn.AvgPool2d | nn.AdaptiveAvgPool2d):
        return "pooling"
    if isinstance(module, nn.Linear):
        return "fully connected"
    if isinstance(module, nn.LocalResponseNorm):
        return "LRN"
    return "dropout" if isinstance(module, nn.Dropout) else type(module).__name__


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape)


def _trace(model: nn.Module, x: torch.Tensor, layers: list[nn.Module]) -> list[tuple[nn.Module, tuple[int, ...]]]:
    """(layer, output shape without the batch) for each of `layers` in the order an eval-mode forward calls them."""
    calls: list[tuple[nn.Module, tuple[int, ...]]] = []
    hooks = [m.register_forward_hook(lambda m, _, out: calls.append((m, tuple(out.shape[1:])))) for m in layers]
    was_training = model.training
    parameter = next(model.parameters(), None)
    if parameter is not None:
        x = x.to(parameter.device, parameter.dtype)
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return calls


# ---- Drawing ----


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The figure and axes to draw into: `ax` if given, else a new pyplot-free Figure with one axes."""
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        ax = fig.add_subplot()
    ax.axis("off")
    return ax.figure, ax


def _box(ax: Axes, xy: tuple[float, float], size: tuple[float, float], text: str, color: str, **style) -> None:
    """A rounded box of `size` (data units) centred on `xy` with `text` in it."""
    (x, y), (w, h) = xy, size
    edge, width, fontsize = style.get("edge", EDGE), style.get("linewidth", 1.0), style.get("fontsize", 8)
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.04")
    patch.set(facecolor=color, edgecolor=edge, linewidth=width)
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, linespacing=1.3)


def _arrow(ax: Axes, points: list[tuple[float, float]], color: str = EDGE, linewidth: float = 1.0) -> None:
    """A line through `points` with an arrow head on its last segment."""
    if len(points) > 2:
        ax.plot(*zip(*points[:-1], strict=True), color=color, linewidth=linewidth, solid_capstyle="butt")
    style = dict(arrowstyle="-|>", color=color, linewidth=linewidth, shrinkA=0, shrinkB=0, mutation_scale=9)
    ax.annotate("", xy=points[-1], xytext=points[-2], arrowprops=style)


# ---- Figure 2: one module ----


def _unit_text(unit: nn.Module, in_channels: int, last: bool) -> str:
    conv = _conv(unit)
    if conv is not None:
        padding = conv.padding if isinstance(conv.padding, str) else _pair(conv.padding)[0]
        return f"{_layer_label(unit)}" + (f"\npad {padding}" if padding else "")
    (ph, pw), stride = _pair(unit.padding), _pair(unit.stride)[0]
    text = f"{_layer_label(unit)}\nstride {stride}, pad {ph if ph == pw else (ph, pw)}"
    return text + (f"\nno projection: all\n{in_channels} channels pass" if last else "")


def _unit_color(unit: nn.Module, role: str) -> str:
    if role in ("reduce", "proj"):
        return REDUCTION_COLOR
    if role == "pool":
        return BRANCH_COLORS["pool"]
    return KERNEL_COLORS.get(_pair(_conv(unit).kernel_size)[0], PLAIN)


def module_diagram(module: nn.Module, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Figure 2(a) (naive) or 2(b) (with 1x1 reductions), drawn from the branches of an Inception module.

    Reads branch1..branch4 of `module` (ours or torchvision's): every box is one conv block or pool with its kernel
    and output channels; 1x1 reductions and the pool projection are coloured apart. Draws into `ax` if given.
    """
    branches = _branches(module)
    in_channels = next(_conv(u).in_channels for b in branches for u in b if _conv(u) is not None)
    outs = [next((_conv(u).out_channels for u in b[::-1] if _conv(u) is not None), in_channels) for b in branches]
    levels = max(len(b) for b in branches)
    fig, ax = _axes(ax, (8.5, 2.4 + 1.1 * levels))
    ax.set(xlim=(-0.05, 4.05), ylim=(-0.45, levels + 1.45))
    io_size, box_w = (3.9, 0.36), 0.88
    _box(ax, (2, 0), io_size, f"previous layer: {in_channels} channels", BRANCH_COLORS["io"], fontsize=9)
    total = f"{' + '.join(map(str, outs))} = {sum(outs)} channels"
    _box(ax, (2, levels + 1), io_size, f"filter concatenation: {total}", BRANCH_COLORS["io"], fontsize=9)
    for i, branch in enumerate(branches):
        x, y0 = i + 0.5, levels - len(branch) + 1  # branches are aligned at the top, as in the paper
        heights = []
        for j, unit in enumerate(branch):
            role = _role(branch, j)
            text = _unit_text(unit, in_channels, last=role == "pool" and j == len(branch) - 1)
            heights.append(0.2 + 0.14 * (text.count("\n") + 1))
            _box(ax, (x, y0 + j), (box_w, heights[-1]), text, _unit_color(unit, role), fontsize=9)
        tops = [0.18] + [y0 + j + h / 2 for j, h in enumerate(heights)]
        bottoms = [y0 + j - h / 2 for j, h in enumerate(heights)] + [levels + 1 - 0.18]
        for top, bottom in zip(tops, bottoms, strict=True):
            _arrow(ax, [(x, top), (x, bottom)])
    bn = "conv + BatchNorm + ReLU" if _batch_norm(module) else "conv + ReLU"
    ax.text(4.05, -0.4, f"each conv box: {bn}", ha="right", va="bottom", fontsize=8, style="italic")
    roles = {_role(b, j) for b in branches for j in range(len(b))}
    if roles & {"reduce", "proj"}:
        key = Patch(facecolor=REDUCTION_COLOR, edgecolor=EDGE, label="1x1 reduction / projection")
        ax.legend(handles=[key], loc="lower left", bbox_to_anchor=(0, -0.02), fontsize=8, frameon=False)
    default = "Figure 2(b): Inception module with dimension reductions" if "reduce" in roles else None
    ax.set_title(title or default or "Figure 2(a): naive Inception module", fontsize=11)
    return fig


# ---- One auxiliary head ----


def _aux_steps(aux: nn.Module, in_shape: tuple[int, ...]) -> list[str]:
    """One line per layer of an auxiliary head with its output shape ('5x5/3 avg pool: 512x4x4')."""
    try:
        calls = _trace(aux, torch.zeros(1, *in_shape), list(aux.children()))
    except (ValueError, RuntimeError):  # a 5x5/3 pool on a map that is not 14x14
        steps = [_layer_label(m) for m in aux.children() if not isinstance(m, nn.ReLU)]
        return steps + [f"fails on this {in_shape[-2]}x{in_shape[-1]} map"]
    steps: list[str] = []
    for module, shape in calls:
        if isinstance(module, nn.ReLU):
            steps[-1] = steps[-1].replace(":", " + ReLU:", 1)
        else:
            steps.append(f"{_layer_label(module)}: {_shape(shape)}")
    return steps


def aux_diagram(aux_head: nn.Module, size: int = 14) -> Figure:
    """One auxiliary classifier (Section 5) left to right: its pool, 1x1 conv, FC, dropout and FC to the classes,
    each with its output shape for a `size` x `size` input map (14 after 4a and 4d at 224x224)."""
    in_shape = (aux_head.in_channels, size, size)
    steps = [f"input: {_shape(in_shape)}"] + _aux_steps(aux_head, in_shape)
    fig, ax = _axes(None, (12, 2.2))
    ax.set(xlim=(0, len(steps)), ylim=(-0.5, 0.3))
    for i, step in enumerate(steps):
        color = PLAIN if i == 0 else AUX_COLOR
        _box(ax, (i + 0.5, 0), (0.86, 0.5), step.replace(": ", "\n", 1), color, edge=AUX_EDGE if i else EDGE)
        if i:
            _arrow(ax, [(i - 0.07, 0), (i + 0.07, 0)])
    bn = "conv + BatchNorm + ReLU" if _batch_norm(aux_head) else "conv + ReLU"
    ax.text(len(steps), -0.45, f"conv box: {bn}; flatten before the first FC", ha="right", fontsize=8, style="italic")
    ax.set_title("Auxiliary classifier (Section 5): used in training only, its loss weighted and added", fontsize=11)
    return fig


# ---- Figure 3: the whole network ----


def _forward_layers(model: nn.Module) -> list[dict]:
    """Each top-level layer the forward pass calls, in order, with its output shape and its group
    ('stem', the stage digit of an Inception module, 'pool' between stages, 'head'). Identity layers are left out."""
    names = {module: name for name, module in model.named_children()}
    size = 32 if getattr(model, "stem", "imagenet") == "small" else 224
    in_shape = (getattr(model, "in_channels", 3), size, size)
    calls = _trace(model, torch.zeros(1, *in_shape), list(names))
    stages = [i for i, (m, _) in enumerate(calls) if _is_inception(m)]
    layers = [dict(name="input", label="input", shape=in_shape, group="stem", color=PLAIN, kind="input")]
    for i, (module, shape) in enumerate(calls):
        if isinstance(module, nn.Identity):
            continue
        name = names[module]
        group = "stem" if i < stages[0] else "head" if i > stages[-1] else "pool"
        if _is_inception(module):
            group = name.removeprefix("inception")[:-1]
        label = _layer_label(module, name)
        color, kind = _layer_color(module), _layer_kind(module)
        layers.append(dict(name=name, label=label, shape=shape, group=group, color=color, kind=kind))
    return layers


def _rows(layers: list[dict]) -> list[list[dict]]:
    """Three rows as a reader scans them: the stem, stages 3-4 with their pools, stage 5 and the classifier."""
    rows: list[list[dict]] = [[]]
    for layer in layers:
        if layer["group"] in ("3", "5") and rows[-1] and rows[-1][-1]["group"] != layer["group"]:
            rows.append([])
        rows[-1].append(layer)
    return rows


def _group_frames(ax: Axes, row: list[dict], y: float, box_h: float) -> None:
    """A shaded frame and a title over each stage of Inception modules, over the stem and over the classifier."""
    groups: dict[str, list[int]] = {}
    for slot, layer in enumerate(row):
        if layer["name"] != "input" and layer["group"] != "pool":
            groups.setdefault(layer["group"], []).append(slot)
    for group, slots in groups.items():
        shape = row[slots[-1]]["shape"]
        title = {"stem": "stem", "head": "classifier"}.get(group) or f"stage {group}: {shape[-2]}x{shape[-1]} maps"
        left, right = slots[0] + 0.04, slots[-1] + 0.96
        frame = Rectangle((left, y - box_h / 2 - 0.08), right - left, box_h + 0.42, facecolor="#f4f6f8")
        frame.set(edgecolor="#b8c2cc", linewidth=0.8, zorder=0)
        ax.add_patch(frame)
        ax.text((left + right) / 2, y + box_h / 2 + 0.17, title, ha="center", va="center", fontsize=8.5, weight="bold")


def _aux_box(ax: Axes, model: nn.Module, name: str, host: tuple[float, float, tuple], y: float, colors: tuple) -> float:
    """An auxiliary head hanging below its host module; returns the bottom of its box."""
    x, host_bottom, host_shape = host
    lines = [f"{name} (training only), after {AUX_HOSTS[name].removeprefix('inception')}"]
    lines += _aux_steps(getattr(model, name), host_shape)
    height = 0.16 * len(lines) + 0.14
    _arrow(ax, [(x, host_bottom), (x, y)], color=colors[1], linewidth=1.5)
    _box(ax, (x, y - height / 2), (2.3, height), "\n".join(lines), colors[0], edge=colors[1], linewidth=1.5)
    return y - height


def _kernel_stride(unit: nn.Module) -> tuple:
    layer = _conv(unit) or unit
    return layer.kernel_size, layer.stride


def _footnote(model: nn.Module) -> str:
    """What every Inception box stands for: its branches' kernels, read from the first module."""
    first = next(m for m in model.modules() if _is_inception(m))
    branches = " | ".join(" \u2192 ".join(_window(*_kernel_stride(u)) for u in b) for b in _branches(first))
    figure = "2(b)" if _has_reductions(first) else "2(a)"
    bn = "conv + BatchNorm + ReLU" if _batch_norm(model) else "conv + ReLU"
    return f"Each inception box is a Figure {figure} module with branches {branches}; each conv is {bn}."


def _color_key(rows: list[list[dict]], aux_color: str | None) -> list[Patch]:
    """One patch per colour drawn, naming every kind of layer that has it ("input, 7x7 conv, LRN, dropout")."""
    kinds: dict[str, list[str]] = {}
    for layer in (layer for row in rows for layer in row):
        names = kinds.setdefault(layer["color"], [])
        if layer["kind"] not in names:
            names.append(layer["kind"])
    handles = [Patch(facecolor=color, edgecolor=EDGE, label=", ".join(names)) for color, names in kinds.items()]
    if aux_color is not None:
        handles.append(Patch(facecolor=aux_color, edgecolor=AUX_EDGE, label="training-only auxiliary head"))
    return handles


def _row_connector(ax: Axes, start: tuple[float, float], end: tuple[float, float], right: float, bend: float) -> None:
    """An arrow from the end of one row (`start`), round the right margin and back, to the start of the next."""
    (x0, y0), (x1, y1) = start, end
    _arrow(ax, [(x0, y0), (right, y0), (right, bend), (x1 - 0.13, bend), (x1 - 0.13, y1), (x1, y1)])


def network_diagram(model: nn.Module, highlight_aux: bool = True) -> Figure:
    """Figure 3 in compact form, read left to right and row by row: the stem, the nine Inception modules grouped by
    stage with the pools between them, the auxiliary heads (if the model has them) and the classifier.

    Output shapes come from an eval-mode forward pass on a zero image (224x224, or 32x32 for the small stem).
    """
    rows = _rows(_forward_layers(model))
    slots = max(9, *(len(row) for row in rows))
    aux_names = [name for name in AUX_HOSTS if getattr(model, name, None) is not None]
    colors = (AUX_COLOR, AUX_EDGE) if highlight_aux else (PLAIN, EDGE)
    box_w, box_h = 0.86, 0.5
    fig, ax = _axes(None, (12, 1.4 + 1.05 * len(rows) + 1.3 * bool(aux_names)))
    y, bottom = 0.0, 0.0
    for r, row in enumerate(rows):
        _group_frames(ax, row, y, box_h)
        for slot, layer in enumerate(row):
            _box(ax, (slot + 0.5, y), (box_w, box_h), f"{layer['label']}\n{_shape(layer['shape'])}", layer["color"])
            if slot:
                _arrow(ax, [(slot - 0.07, y), (slot + 0.07, y)])
        bottom = y - box_h / 2
        for name in aux_names:
            slot = next((i for i, layer in enumerate(row) if layer["name"] == AUX_HOSTS[name]), None)
            if slot is not None:
                host = (slot + 0.5, y - box_h / 2, row[slot]["shape"])
                bottom = min(bottom, _aux_box(ax, model, name, host, y - box_h / 2 - 0.3, colors))
        if r + 1 < len(rows):  # round the right margin, below what hangs from this row, to the next row
            below = bottom - 0.8 - box_h / 2
            _row_connector(ax, (len(row) - 0.07, y), (0.07, below), slots + 0.06, below + box_h / 2 + 0.5)
            y = below
    ax.set(xlim=(-0.15, slots + 0.15), ylim=(bottom - 0.95, box_h / 2 + 0.5))
    ax.text(0, bottom - 0.3, _footnote(model), fontsize=8, style="italic")
    key = _color_key(rows, colors[0] if aux_names else None)
    ax.legend(handles=key, loc="upper left", bbox_to_anchor=(-0.1, bottom - 0.38), bbox_transform=ax.transData,
              ncol=4, fontsize=8, frameon=False, borderaxespad=0, handlelength=1.6)  # fmt: skip
    params = sum(p.numel() for p in model.parameters())
    counted = " (auxiliary heads included)" if aux_names else ""
    title = f"GoogLeNet (Figure 3, compact): {_shape(rows[0][0]['shape'])} input, {params / 1e6:.2f}M parameters"
    ax.set_title(title + counted, fontsize=11)
    return fig


# ---- The multi-scale idea (notebook 01) ----


def _as_image(image: np.ndarray | torch.Tensor) -> np.ndarray:
    """An HxWx3 (or HxW) array for imshow from a uint8/float array or a CHW tensor."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu()
        if image.dim() == 3 and image.shape[0] in (1, 3):
            image = image.permute(1, 2, 0)
        image = image.numpy()
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    return image if image.dtype == np.uint8 else np.clip(image, 0, 1)


def _windows(ax: Axes, centre: tuple[int, int], sizes: dict[str, tuple[int, str, str]]) -> None:
    """Square windows centred on pixel `centre` (row, col): label -> (side in pixels, colour, line style)."""
    row, col = centre
    for label, (side, color, style) in sizes.items():
        corner = (col - side / 2, row - side / 2)
        ax.add_patch(Rectangle(corner, side, side, fill=False, edgecolor=color, linewidth=2, linestyle=style,
                               label=label))  # fmt: skip


def multiscale_windows(
    image: np.ndarray | torch.Tensor,
    ax: Axes | None = None,
    centre: tuple[int, int] | None = None,
    stacked: int = 2,
) -> Figure:
    """The 1x1, 3x3 and 5x5 windows of one Inception module over a real image, centred on one pixel (row, col),
    and (`stacked` > 0) the receptive field of `stacked` 5x5 layers on top of each other. Without `ax`, a second
    panel zooms in so that the 1x1 window is visible."""
    picture = _as_image(image)
    height, width = picture.shape[:2]
    centre = centre or (height // 2, width // 2)
    sizes = {f"{k}x{k} window": (k, color, "-") for k, color in ((1, "#00e5ff"), (3, "#ffd000"), (5, "#ff3b3b"))}
    field = stacked * 4 + 1  # each 5x5 layer adds 2 pixels on every side
    if stacked > 0:
        sizes[f"{stacked} stacked 5x5 layers see {field}x{field}"] = (field, "#ff4df0", "--")
    fig = Figure(figsize=(10, 4.6), layout="constrained") if ax is None else ax.figure
    axes = list(fig.subplots(1, 2)) if ax is None else [ax]
    for panel in axes:
        panel.imshow(picture, interpolation="nearest", cmap="gray")
        _windows(panel, centre, sizes)
        panel.set(xticks=[], yticks=[])
    axes[0].set_title(f"the image ({height}x{width} pixels)", fontsize=10)
    legend = dict(handles=axes[0].get_legend_handles_labels()[0], fontsize=9, frameon=False)
    if ax is not None:  # the caller's figure: legend under the axes, no figure title
        ax.legend(**legend, loc="upper center", bbox_to_anchor=(0.5, 0), ncols=2)
        return fig
    half = max(field, 5) / 2 + 2
    axes[1].set(xlim=(centre[1] - half, centre[1] + half), ylim=(centre[0] + half, centre[0] - half))
    axes[1].set_title(f"zoom on pixel (row {centre[0]}, col {centre[1]})", fontsize=10)
    fig.legend(**legend, loc="outside lower center", ncols=len(sizes))
    fig.suptitle("One Inception module looks at three scales at once; stacking layers widens the view", fontsize=11)
    return fig


__all__ = ["aux_diagram", "module_diagram", "multiscale_windows", "network_diagram"]
