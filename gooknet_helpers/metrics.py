"""What a finished training run reports: its headline numbers (`RunSummary`) and its `metrics.json` file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from torch import nn

from .config import TrainConfig
from .costs import measure
from .data import ImageData
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
    """Write `metrics.json` (summary and per-epoch history) into `folder`; returns its path."""
    path = Path(folder) / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(summary), indent=1))
    return path
