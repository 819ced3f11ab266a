"""What a finished training run reports: its headline numbers (`RunSummary`), its `metrics.json` file, and whether
it learned at all (`learned`: the guard of notebook 04's demo run)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from .config import TrainConfig
from .costs import measure
from .data import ImageData
from .files import write_json
from .runtime import describe_device


@dataclass
class RunSummary:
    """What a finished run reports: saved as metrics.json by the CLI and the notebook."""

    config: dict
    data: str
    device: str
    params: int
    macs: int
    final_test_acc: float
    best_test_acc: float
    train_s: float
    images_per_s: float
    data_fraction: float | None  # share of training time spent producing batches
    history: dict = field(repr=False)


def summarize(config: TrainConfig, history: dict, data: ImageData, model: nn.Module) -> RunSummary:
    """A run's headline numbers (the model's MACs per 32x32 image from costs.measure, eval mode)."""
    cost = measure(model, (3, 32, 32))
    train_s = sum(history["epoch_s"])
    data_s = history["data_s"]
    return RunSummary(
        config=asdict(config),
        data=data.describe(),
        device=describe_device(data.device),
        params=cost.params,
        macs=cost.macs,
        final_test_acc=history["test_acc"][-1],
        best_test_acc=max(history["test_acc"]),
        train_s=train_s,
        images_per_s=sum(a * b for a, b in zip(history["images_per_s"], history["epoch_s"], strict=True)) / train_s,
        data_fraction=sum(data_s) / train_s if data_s and None not in data_s else None,
        history=history,
    )


def save_metrics(summary: RunSummary, folder: str | Path) -> Path:
    """Write `metrics.json` (summary and per-epoch history) into `folder`, atomically (`files.write_json`: a full
    disk or a crash leaves the previous file whole); a NaN or infinite number is written as null. Returns its path."""
    return write_json(asdict(summary), Path(folder) / "metrics.json", hint="Free some disk space and run again.")


class Learning(NamedTuple):
    """Did a run learn? (`learned`)"""

    weights_moved: bool  # some parameter differs from where it started
    loss_fell: bool  # the last epoch's training loss is clearly below the first epoch's

    @property
    def ok(self) -> bool:
        return self.weights_moved and self.loss_fell


def learned(history: dict, model: nn.Module, initial: nn.Module, min_fall: float = 0.02) -> Learning:
    """Whether a run learned: its parameters moved away from `initial` (the network as it was before training:
    `config.build_model(config)` rebuilds it, seeded) and its mean training loss fell from the first epoch to the
    last by at least `min_fall` (2%) of the first. Batch norm's running statistics are left out, as they change
    with any forward pass in training mode, learning or not. A run of one epoch shows no fall (False)."""
    start = dict(initial.named_parameters())
    moved = any(not torch.equal(p.detach().cpu(), start[name].detach().cpu()) for name, p in model.named_parameters())
    losses = history["train_loss"]
    fell = len(losses) >= 2 and losses[-1] <= (1 - min_fall) * losses[0]
    return Learning(moved, fell)
