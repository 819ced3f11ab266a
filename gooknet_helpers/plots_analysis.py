"""The figures of notebook 05, drawn from the measurements of `analysis.py`. Each function returns its Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from .analysis import Ablation
from .plots import BRANCH_COLORS


def filter_grid(weights: dict[str, torch.Tensor]) -> Figure:
    """First-layer filters (out, 3, k, k) as RGB images, one row per set (e.g. untrained, trained); each filter is
    scaled to its own range, so only its pattern and colour show, not its size (batch norm rescales it anyway)."""
    n = max(len(w) for w in weights.values())
    fig, axes = plt.subplots(len(weights), n, figsize=(0.75 * n, 1.0 * len(weights) + 0.3), squeeze=False)
    for row, (name, w) in zip(axes, weights.items(), strict=True):
        w = w.detach().float().cpu()
        low, high = w.amin((1, 2, 3), keepdim=True), w.amax((1, 2, 3), keepdim=True)
        scaled = (w - low) / (high - low).clamp_min(1e-12)
        for i, ax in enumerate(row):
            ax.set(xticks=[], yticks=[])
            if i < len(w):
                ax.imshow(scaled[i].permute(1, 2, 0).numpy(), interpolation="nearest")
        row[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(f"conv1: {n} filters of {tuple(w.shape[1:])} (channels, height, width), each scaled to its own range")
    fig.tight_layout()
    return fig


def share_bars(shares: dict[str, torch.Tensor], modules: list[str], branches: tuple[str, ...]) -> Figure:
    """One panel per (modules, 4) share table: stacked bars per module, one colour per branch."""
    fig, axes = plt.subplots(1, len(shares), figsize=(4.6 * len(shares), 3.4), sharey=True, squeeze=False)
    colors = list(BRANCH_COLORS.values())[:4]
    for ax, (title, table) in zip(axes[0], shares.items(), strict=True):
        bottom = torch.zeros(len(modules))
        for j, (label, color) in enumerate(zip(branches, colors, strict=True)):
            ax.bar(modules, table[:, j], bottom=bottom, color=color, label=label, edgecolor="white")
            bottom += table[:, j]
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("Inception module")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0, 0].set_ylabel("share of the module's output")
    axes[0, -1].legend(title="branch", bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def ablation_heatmap(ablation: Ablation) -> Figure:
    """The (modules x branches) accuracy drop as a heat map, each cell labelled with its drop and standard error."""
    drops, errors = ablation.drops(), ablation.standard_errors()
    fig, ax = plt.subplots(figsize=(5.2, 5.6))
    limit = max(drops.abs().max().item(), 1e-6)
    image = ax.imshow(drops.numpy(), cmap="Reds", vmin=0, vmax=limit, aspect="auto")  # a rise shows white
    for i in range(drops.shape[0]):
        for j in range(drops.shape[1]):
            color = "white" if drops[i, j] > 0.6 * limit else "black"
            text = f"{drops[i, j]:.1f}\n±{errors[i, j]:.1f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7.5, color=color)
    ax.set_xticks(range(len(ablation.branches)), [f"{b}\nbranch" for b in ablation.branches])
    ax.set_yticks(range(len(ablation.modules)), ablation.modules)
    ax.set_ylabel("Inception module (input side at the top)")
    n = ablation.clean.numel()
    ax.set_title(f"Accuracy drop when one branch is switched off\n{n:,} test images, clean {ablation.accuracy:.1%}")
    fig.colorbar(image, ax=ax, label="drop in test accuracy (percentage points)", shrink=0.8)
    fig.tight_layout()
    return fig


def depth_plot(probes: dict[str, float], heads: dict[str, tuple[str, float]], chance: float) -> Figure:
    """Probe test accuracy after each layer (line), with classifier heads as markers at the layer they read."""
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    names = list(probes)
    ax.plot(names, list(probes.values()), "o-", color="#4c72b0", label="linear probe on pooled features")
    for (label, (layer, acc)), marker in zip(heads.items(), "s^D", strict=False):
        ax.plot([names.index(layer)], [acc], marker, ms=9, linestyle="none", label=label)
    ax.axhline(chance, color="grey", linestyle=":", label="chance")
    ax.set_ylim(0, 1)
    ax.set_xlabel("layer the classifier reads (stem's last convolution, then the nine Inception modules)")
    ax.set_ylabel("test accuracy")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def cam_grid(images: torch.Tensor, maps: dict[str, torch.Tensor], titles: list[str], title: str = "") -> Figure:
    """uint8 images (N, 3, H, W) in the first row, then one row per saliency map set (name -> (N, H, W) in [0, 1]),
    each map laid over its image, with a colour bar."""
    n = len(images)
    fig, axes = plt.subplots(1 + len(maps), n, figsize=(1.6 * n + 1.0, 1.7 * (1 + len(maps)) + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
    shown = None
    for i in range(n):
        picture = images[i].permute(1, 2, 0).cpu().numpy()
        axes[0, i].imshow(picture)
        axes[0, i].set_title(titles[i], fontsize=9)
        for row, cam in zip(axes[1:], maps.values(), strict=True):
            row[i].imshow(picture)
            shown = row[i].imshow(cam[i].cpu().numpy(), cmap="jet", alpha=0.5, vmin=0, vmax=1)
    for row, name in zip(axes, ["image", *maps], strict=True):
        row[0].set_ylabel(name, fontsize=9)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 0.93, 1))
    if shown is not None:  # in a margin of its own, so that every row keeps the same width
        bar = fig.add_axes((0.945, 0.08, 0.012, 0.55))
        fig.colorbar(shown, cax=bar, label="Grad-CAM (max = 1)")
    return fig


def confidence_histogram(probabilities: torch.Tensor, smoothed_target: float, title: str = "") -> Figure:
    """Histogram of the top softmax probability per test image, with the label-smoothing target marked."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.hist(probabilities.cpu().numpy(), bins=50, range=(0, 1), color="#8fbfe0", edgecolor="white")
    ax.axvline(smoothed_target, color="#c44e52", linestyle="--", label=f"smoothed target {smoothed_target:.2f}")
    ax.set_xlabel("probability of the predicted class")
    ax.set_ylabel("test images")
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig
