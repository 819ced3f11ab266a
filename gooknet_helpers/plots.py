"""The figures of notebooks 01-04 (notebook 05's are in `plots_analysis.py`). Each function returns its Figure."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .costs import Cost, ModuleCost

# ---- Modules and costs (notebooks 01-02) ----
BRANCH_COLORS = {"1x1": "#8fbfe0", "3x3": "#f2c57c", "5x5": "#e58f8f", "pool": "#a6d49f", "io": "#d9d9d9"}
NAIVE_COLOR, REDUCED_COLOR = "#e58f8f", "#8fbfe0"

# What naive_vs_reduced_bars can plot: quantity -> (value of a ModuleCost, axis label, bar label format).
QUANTITIES = {
    "params": (lambda m: m.cost.params / 1e3, "parameters (thousands)", "{:,.0f}"),
    "macs": (lambda m: m.cost.macs / 1e6, "multiply-adds (millions)", "{:,.0f}"),
    "gmacs": (lambda m: m.cost.macs / 1e9, "multiply-adds (billions)", "{:.2f}"),
    "channels": (lambda m: m.out_channels, "output channels", "{:,}"),
}


def _bars(ax: plt.Axes, labels: list[str], series: dict[str, tuple[list[float], str]], ylabel: str, fmt: str) -> None:
    """Grouped bars: one group per label, one bar per series (name -> (values, colour)), values on top."""
    width = 0.8 / len(series)
    for i, (name, (values, color)) in enumerate(series.items()):
        offset = (i - (len(series) - 1) / 2) * width
        bars = ax.bar([x + offset for x in range(len(labels))], values, width, label=name, color=color)
        ax.bar_label(bars, fmt=fmt, fontsize=7, padding=1)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    ax.margins(y=0.12)


def branch_bars(costs: dict[str, Cost], title: str = "") -> plt.Figure:
    """Parameters and multiply-adds of each branch of one module, e.g. of costs.branch_costs(...)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    colors = list(BRANCH_COLORS.values())[: len(costs)]
    for ax, key in zip(axes, ("params", "macs"), strict=True):
        scale = 1e3 if key == "params" else 1e6
        _bars(ax, list(costs), {key: ([getattr(c, key) / scale for c in costs.values()], colors)}, *QUANTITIES[key][1:])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def naive_vs_reduced_bars(
    pairs: list[tuple[ModuleCost, ModuleCost]],
    quantities: tuple[str, ...] = ("params", "macs"),
    labels: tuple[str, str] = ("naive (Figure 2a)", "with 1x1 reductions (Figure 2b)"),
    pyplot: bool = True,
) -> Figure:
    """Grouped bars, naive beside reduced, one group per pair of ModuleCost and one panel per quantity.

    With pyplot=False the figure is a plain `Figure` that pyplot never sees (safe to draw off the main thread).
    """
    panel_width = 2.2 + 0.55 * len(pairs)
    size = (panel_width * len(quantities), 2.4 + 0.1 * len(pairs))
    fig = plt.figure(figsize=size) if pyplot else Figure(figsize=size)
    axes = fig.subplots(1, len(quantities), squeeze=False)[0]
    names = [naive.name for naive, _ in pairs]
    for ax, quantity in zip(axes, quantities, strict=True):
        value, ylabel, fmt = QUANTITIES[quantity]
        series = {
            labels[0]: ([value(naive) for naive, _ in pairs], NAIVE_COLOR),
            labels[1]: ([value(reduced) for _, reduced in pairs], REDUCED_COLOR),
        }
        _bars(ax, names, series, ylabel, fmt)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", ncols=2, frameon=False, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return fig


def feature_maps(
    image: torch.Tensor,
    maps: dict[str, torch.Tensor],
    per_branch: int = 4,
    channel_names: dict[str, Sequence[str]] | None = None,
) -> plt.Figure:
    """The input image (3, H, W) beside each branch's output (C, H, W): its `per_branch` most varied channels.

    Channels are ranked by their standard deviation, so channels that ReLU zeroed everywhere are left out. Each map
    is scaled to its own range (0: its lowest value, 1: its highest), the scale the colour bar shows; each panel
    is titled with its channel, by name where `channel_names` gives them for that row ({"3x3 max pool": "RGB"}),
    and a named row keeps its channels in their own order (R, G, B), not ranked.
    """
    fig, axes = plt.subplots(
        len(maps), per_branch + 1, figsize=(1.8 * (per_branch + 1) + 0.7, 1.95 * len(maps)), layout="constrained"
    )
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
    axes[0, 0].imshow(image.permute(1, 2, 0).clamp(0, 1).cpu().numpy())
    axes[0, 0].set_title("input", fontsize=9)
    for ax in axes[1:, 0]:
        ax.axis("off")
    shown = None
    for row, (name, fmap) in zip(axes, maps.items(), strict=True):
        row[1].set_ylabel(name, fontsize=9)
        names = (channel_names or {}).get(name)
        varied = fmap.flatten(1).std(dim=1).argsort(descending=True)[:per_branch]
        if names:  # named channels (R, G, B) keep their own order
            varied = varied.sort().values
        for ax, channel in zip(row[1:], varied.tolist(), strict=False):
            values = fmap[channel].detach().float().cpu()
            scaled = (values - values.min()) / (values.max() - values.min()).clamp_min(1e-12)
            shown = ax.imshow(scaled.numpy(), cmap="viridis", vmin=0, vmax=1)
            ax.set_title(names[channel] if names else f"channel {channel}", fontsize=8)
        for ax in row[1 + len(varied) :]:
            ax.axis("off")
    if shown is not None:
        bar = fig.colorbar(shown, ax=axes[:, 1:], shrink=0.5, aspect=30, ticks=[0, 1])
        bar.ax.set_yticklabels(["lowest", "highest"], fontsize=8)
        bar.set_label("each map scaled to its own range", fontsize=8)
    return fig


# ---- The full network (notebook 03) ----


def table1_ratio_plot(rows: list) -> plt.Figure:
    """Ours / paper for every Table 1 row (costs.table1), params and ops, as bars from 1; disagreements in red."""
    fig, ax = plt.subplots(figsize=(10, 3.6))
    names = [r.name for r in rows]
    series = {
        "parameters": ([r.params_ratio for r in rows], [r.params_agree for r in rows], -0.2),
        "multiply-adds": ([r.ops_ratio for r in rows], [r.ops_agree for r in rows], 0.2),
    }
    for label, (ratios, agree, offset) in series.items():
        colors = ["#9bbcd9" if ok else "#d9534f" for ok in agree]
        hatch = "" if label == "parameters" else "//"
        x = [i + offset for i in range(len(rows))]
        bars = ax.bar(x, [r - 1 for r in ratios], 0.4, bottom=1, color=colors, hatch=hatch, label=label)
        marks = [f"{r:.2f}" if not ok else "" for r, ok in zip(ratios, agree, strict=True)]
        ax.bar_label(bars, labels=marks, fontsize=8, padding=1)
    ax.axhline(1, color="grey", linewidth=1)
    ax.set_yscale("log", base=2)
    ax.set_yticks([0.9, 1, 1.5, 2, 3], ["0.9", "1", "1.5", "2", "3"])
    ax.minorticks_off()
    ax.set_xticks(range(len(rows)), names, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("ours / paper (log scale)")
    ax.set_title("Table 1 rows: red = our arithmetic disagrees with the printed value (plain: params, hatched: ops)")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def param_count_bars(counts: dict[str, int], highlight: str = "") -> plt.Figure:
    """Horizontal bars of parameter counts in millions, one per model; `highlight` is drawn in a second colour."""
    fig, ax = plt.subplots(figsize=(7, 0.55 * len(counts) + 1))
    names = list(counts)[::-1]
    colors = ["#e0803a" if name == highlight else "#3b75af" for name in names]
    bars = ax.barh(names, [counts[n] / 1e6 for n in names], color=colors)
    ax.bar_label(bars, fmt="{:.1f}M", padding=3, fontsize=9)
    ax.set_xlabel("parameters (millions)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.margins(x=0.12)
    fig.tight_layout()
    return fig


def gradient_norm_plot(results: dict[str, list]) -> plt.Figure:
    """One panel per setting: RMS gradient of each stage from the main loss alone and with the aux losses.

    `results` maps a title to gradients.gradient_norms rows; the dotted lines mark where the aux heads attach.
    """
    fig, axes = plt.subplots(
        1, len(results), figsize=(4.6 * len(results), 4.1), sharey=False, squeeze=False, layout="constrained"
    )
    for ax, (title, rows) in zip(axes[0], results.items(), strict=True):
        names = [r.name.replace("inception", "") for r in rows]
        ax.plot(names, [r.main for r in rows], "o-", color="#3b75af", label="main loss only")
        ax.plot(names, [r.with_aux for r in rows], "s--", color="#e0803a", label="main + 0.3 x (aux1 + aux2)")
        for i, attach in enumerate(a for a in ("4a", "4d") if a in names):
            label = "where the aux heads attach (4a, 4d)" if i == 0 else None
            ax.axvline(names.index(attach), color="grey", linestyle=":", linewidth=1, label=label)
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.tick_params(axis="x", labelrotation=60, labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0, 0].set_ylabel("RMS gradient per parameter")
    # One legend for every panel, above them: the same lines mean the same in each.
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside upper center", ncol=3, frameon=False, fontsize=9)
    return fig


def receptive_field_plot(fields: list, image_size: int = 224) -> plt.Figure:
    """Theoretical receptive field after every layer (shapes.receptive_fields) against the image size."""
    fig, ax = plt.subplots(figsize=(10, 3.6))
    names = [f.name for f in fields]
    bars = ax.bar(names, [f.size for f in fields], color="#3b75af")
    ax.bar_label(bars, fontsize=7, padding=1)
    ax.axhline(image_size, color="#e0803a", linestyle="--", label=f"the {image_size}x{image_size} image")
    ax.set_ylabel("receptive field (input pixels)")
    ax.tick_params(axis="x", labelrotation=60, labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


# ---- Training (notebook 04) ----


class LiveCurves:
    """Training curves shown once in the notebook and redrawn in place after every epoch: `fit(..., on_epoch=live)`.

    `live.fig` is the latest figure (save it with the run).
    """

    def __init__(self, title: str = "") -> None:
        self.title = title
        self.handle = None
        self.fig: plt.Figure | None = None

    def __call__(self, history: dict) -> None:
        from IPython.display import display

        self.fig = training_curves(history, self.title)
        if self.handle is None:
            self.handle = display(self.fig, display_id=True)
        else:
            self.handle.update(self.fig)
        plt.close(self.fig)  # shown through the display handle only


def training_curves(history: dict, title: str = "") -> plt.Figure:
    """Train and test loss (left) and accuracy (right) per epoch of a `fit` history.

    Both losses are the plain cross entropy of the main head (no label smoothing, no aux losses); the train values
    are averaged over the epoch's augmented batches in train mode, the test values measured at the epoch's end.
    """
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
    epochs = history["epoch"]
    for ax, key, label in ((loss_ax, "loss", "cross entropy (main head)"), (acc_ax, "acc", "accuracy")):
        ax.plot(epochs, history[f"train_{key}"], "o-", ms=3, label="train (augmented, mean over the epoch)")
        ax.plot(epochs, history[f"test_{key}"], "o-", ms=3, label="test (at the epoch's end)")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.spines[["top", "right"]].set_visible(False)
    acc_ax.set_ylim(0, 1)
    # One legend for both panels, below them, where no curve can run under it.
    fig.legend(*acc_ax.get_legend_handles_labels(), loc="outside lower center", ncol=2, frameon=False, fontsize=9)
    fig.suptitle(title)
    return fig


def accuracy_bars(histories: dict[str, dict], test_images: int) -> plt.Figure:
    """Final test accuracy of each run (name -> `fit` history) with +-1 binomial standard error of a test set of
    `test_images` images: how far chance alone moves an accuracy measured on that many images."""
    fig, ax = plt.subplots(figsize=(4.6, 3.2))
    names = list(histories)
    accuracies = [100 * histories[name]["test_acc"][-1] for name in names]
    errors = [(a * (100 - a) / test_images) ** 0.5 for a in accuracies]
    ax.bar(range(len(names)), accuracies, 0.55, yerr=errors, capsize=8, color="#d6e4f0", edgecolor="#1f5f8f")
    for i, (a, e) in enumerate(zip(accuracies, errors, strict=True)):
        ax.annotate(f"{a:.1f}% ± {e:.1f}", (i, a + e), xytext=(0, 4), ha="center", textcoords="offset points")
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"one seed each; error bars: ±1 SE of {test_images:,} test images", fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def grad_norm_curves(histories: dict[str, dict], smooth: int = 10) -> plt.Figure:
    """Per-step gradient norm of each tracked module (one panel each), one line per run, moving average over up to
    `smooth` steps (fewer for short runs)."""
    layers = list(next(iter(histories.values()))["grad_norm"])
    fig, axes = plt.subplots(1, len(layers), figsize=(3.3 * len(layers), 3), squeeze=False)
    for ax, layer in zip(axes[0], layers, strict=True):
        for name, history in histories.items():
            values = torch.tensor(history["grad_norm"][layer])
            k = max(1, min(smooth, len(values) // 5))
            ax.plot(range(k, len(values) + 1), values.unfold(0, k, 1).mean(1), label=name)
        ax.set_title(layer)
        ax.set_xlabel("step")
        ax.set_ylim(bottom=0)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0, 0].set_ylabel("gradient norm")
    axes[0, -1].legend()
    fig.tight_layout()
    return fig


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor, classes: tuple[str, ...]) -> plt.Figure:
    """Counts of true class (rows) against predicted class (columns)."""
    n = len(classes)
    counts = torch.bincount(labels.cpu() * n + predictions.cpu(), minlength=n * n).view(n, n)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.imshow(counts, cmap="Blues")
    for i in range(n):
        for j in range(n):
            color = "white" if counts[i, j] > counts.max() / 2 else "black"
            ax.text(j, i, int(counts[i, j]), ha="center", va="center", fontsize=7, color=color)
    ax.set_xticks(range(n), classes, rotation=60, ha="right")
    ax.set_yticks(range(n), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.tight_layout()
    return fig


def image_grid(images: torch.Tensor, titles: list[str], cols: int = 8) -> plt.Figure:
    """uint8 (N, 3, H, W) images in a grid, each with its title."""
    rows = max(1, -(-len(images) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.45), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles, strict=False):
        ax.imshow(image.permute(1, 2, 0).cpu())
        ax.set_title(title, fontsize=7)
    fig.tight_layout()
    return fig


def misclassified_grid(
    images: torch.Tensor, labels: torch.Tensor, predictions: torch.Tensor, classes: tuple[str, ...], n: int = 24
) -> plt.Figure:
    """`n` misclassified test images, spread evenly over all the mistakes, titled 'true -> predicted'."""
    wrong = (labels != predictions).nonzero().flatten().cpu()
    wrong = wrong[torch.linspace(0, len(wrong) - 1, min(n, len(wrong))).long()].tolist()
    titles = [f"{classes[labels[i]]}\n-> {classes[predictions[i]]}" for i in wrong]
    return image_grid(images[wrong], titles)


def _jitter(n: int, spread: float = 0.22) -> list[float]:
    """`n` horizontal offsets spread evenly over +-spread/2, so that equal values stay visible side by side."""
    return [0.0] if n == 1 else [spread * (i / (n - 1) - 0.5) for i in range(n)]


def ablation_figure(results: dict, comparisons: dict[str, dict], arms: list[str]) -> plt.Figure:
    """Left: every seed's test accuracy per arm (dots, jittered) and the arm's mean (bar). Right: each comparison's
    difference of means with its 95% t-interval, the +-1 point band of "no difference", and its verdict.
    The title states the budget the runs were trained under."""
    runs, budget = results["runs"], results["budget"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), width_ratios=(1.1, 1))
    for i, arm in enumerate(arms):
        values = [100 * r["final_test_acc"] for r in sorted(runs, key=lambda r: r["seed"]) if r["arm"] == arm]
        if not values:
            continue
        left.bar(i, sum(values) / len(values), 0.6, color="#d6e4f0", edgecolor="#1f5f8f")
        left.plot([i + dx for dx in _jitter(len(values))], values, "o", color="#1f5f8f", ms=5)
        left.annotate(
            f"{sum(values) / len(values):.2f}%",
            (i, max(values)),
            xytext=(0, 6),
            ha="center",
            textcoords="offset points",
            fontsize=9,
        )
    low = min((100 * r["final_test_acc"] for r in runs), default=0)
    left.set_ylim(max(0, low - 3), None)
    left.set_xticks(range(len(arms)), arms)
    left.set_ylabel("test accuracy (%), one dot per seed")
    for j, c in enumerate(comparisons.values()):
        d, h = 100 * c["difference"], 100 * c["half_width"]
        right.errorbar(d, j, xerr=h, fmt="s", ms=7, capsize=6, color="#1f5f8f")
        right.annotate(c["verdict"], (d, j), xytext=(0, 10), ha="center", textcoords="offset points", fontsize=9)
    right.axvspan(-1, 1, color="#eeeeee", zorder=0, label="within 1 point")
    right.axvline(0, color="#888888", lw=1)
    right.set_yticks(range(len(comparisons)), [f"{c['arm']}\nminus {c['baseline']}" for c in comparisons.values()])
    right.set_ylim(-0.6, len(comparisons) - 0.4)
    right.set_xlabel("difference of mean accuracy (points), 95% t-interval")
    right.legend(loc="lower right", fontsize=8)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
    seeds = sorted({sum(r["arm"] == arm for r in runs) for arm in arms})
    fig.suptitle(
        f"width {budget['width']}, {budget['epochs']} epochs of {budget['train']:,} training images, batch "
        f"{budget['batch_size']}, lr {budget['lr']}; {budget['test']:,} test images; "
        f"{'/'.join(map(str, seeds))} seeds per arm",
        fontsize=10,
    )
    fig.tight_layout()
    return fig
