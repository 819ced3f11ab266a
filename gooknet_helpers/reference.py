"""The results this package ships: a GoogLeNet trained on CIFAR-10, its curves, and the committed ablation runs.

They live in the package folder `gooknet_helpers/reference/` (package data), so a `pip install` of the
repository and Colab get them too:

    model, meta = reference_model()      # the trained network in eval mode, and how it was made
    meta["test_acc"], meta["command"]    # accuracy on the 10,000 CIFAR-10 test images, the command that trained it
    curves = reference_metrics()         # the run's metrics.json: per-epoch history and headline numbers
    runs = ablation_results()["runs"]    # every run of benchmarks/ablations.py (arm, seed, accuracies, ...)

`tools/export_reference.py` writes the weights and metadata from a finished training run.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path
from statistics import mean, stdev

import torch

from .network import GoogLeNet

WEIGHTS = "googlenet_cifar10.pt"
METADATA = "metadata.json"
METRICS = "metrics.json"
ABLATIONS = "ablations.json"


class ReferenceUnavailableError(FileNotFoundError):
    """A shipped result file is missing from the installed package."""


def _file(name: str) -> resources.abc.Traversable:
    """A file of the package's reference/ folder; a clear error when it is not there."""
    path = resources.files(__package__) / "reference" / name
    if not path.is_file():
        raise ReferenceUnavailableError(
            f"gooknet_helpers/reference/{name} is not in this installation. It is written by "
            f"{'benchmarks/ablations.py' if name == ABLATIONS else 'tools/export_reference.py RUN_DIR'} and "
            "committed with the repository: update your clone (git pull) and reinstall (pip install -e .)."
        )
    return path


def load_weights(path: str | Path, device: torch.device | str = "cpu") -> GoogLeNet:
    """A GoogLeNet from a weights file of `tools/export_reference.py` (state dict + `GoogLeNet.config`), eval mode.

    Loaded with `weights_only=True`: tensors and plain data only, no code runs.
    """
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = GoogLeNet(**state["model_config"])
    model.load_state_dict(state["model"])
    return model.to(device).eval()


def reference_model(device: torch.device | str = "cpu") -> tuple[GoogLeNet, dict]:
    """The shipped GoogLeNet trained on CIFAR-10 (eval mode, on `device`) and its metadata (test accuracy,
    command, epochs, training time, device, torch version, data)."""
    with resources.as_file(_file(WEIGHTS)) as path:
        model = load_weights(path, device)
    return model, json.loads(_file(METADATA).read_text())


def reference_metrics() -> dict:
    """The reference run's metrics.json: config, headline numbers and the per-epoch history (curves)."""
    return json.loads(_file(METRICS).read_text())


def ablation_results() -> dict:
    """The committed results of `benchmarks/ablations.py`: its budget and every run (arm, seed, accuracies)."""
    return json.loads(_file(ABLATIONS).read_text())


def arm_values(runs: list[dict], arm: str, key: str = "final_test_acc") -> list[float]:
    """`key` of every run of `arm`, in seed order."""
    return [run[key] for run in sorted(runs, key=lambda r: r["seed"]) if run["arm"] == arm]


def compare_arms(runs: list[dict], arm: str, baseline: str, key: str = "final_test_acc") -> dict:
    """Mean difference `arm` - `baseline` over their seeds and its standard error, with a verdict.

    The standard error of a difference of two means is sqrt(s_a^2 / n_a + s_b^2 / n_b), s the sample standard
    deviation over seeds. The difference counts as settled when it exceeds three standard errors.
    """
    a, b = arm_values(runs, arm, key), arm_values(runs, baseline, key)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"need at least 2 seeds per arm to estimate a standard error, got {len(a)} and {len(b)}")
    difference = mean(a) - mean(b)
    se = math.sqrt(stdev(a) ** 2 / len(a) + stdev(b) ** 2 / len(b))
    settled = abs(difference) > 3 * se
    if settled:
        better = arm if difference > 0 else baseline
        verdict = f"{better} is better by {100 * abs(difference):.2f} points (SE {100 * se:.2f})"
    else:
        verdict = f"no difference at this budget: {100 * difference:+.2f} points, SE {100 * se:.2f} (not under a third)"
    return dict(
        arm=arm,
        baseline=baseline,
        key=key,
        seeds=(len(a), len(b)),
        mean=mean(a),
        mean_baseline=mean(b),
        std=stdev(a),
        std_baseline=stdev(b),
        difference=difference,
        se=se,
        settled=settled,
        verdict=verdict,
    )
