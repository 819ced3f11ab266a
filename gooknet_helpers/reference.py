"""The results this package ships: a GoogLeNet trained on CIFAR-10, its curves, and the ablation experiments.

They live in the package folder `gooknet_helpers/reference/` (package data), so a `pip install` of the
repository and Colab get them too:

    model, meta = reference_model()      # the trained network in eval mode, and how it was made
    meta["test_acc"], meta["command"]    # accuracy on the 10,000 CIFAR-10 test images, the command that trained it
    curves = reference_metrics()         # the run's metrics.json: per-epoch history and headline numbers
    runs = ablation_results()["runs"]    # every run of benchmarks/ablations.py (arm, seed, accuracies, ...)

`tools/export_reference.py` writes the weights and metadata from a finished training run. The ablation's arms
(`ablation_configs`, `train_arm`) are defined here too, so notebook 04 can re-run them live on a GPU, and
`compare_arms` turns runs over seeds into a mean difference, its standard error and a verdict.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from statistics import mean, stdev

import torch

from .costs import measure
from .data import ImageData
from .network import GoogLeNet
from .runtime import GooknetError, describe_device
from .training import TrainConfig, build_model, evaluate, fit, matched_width

WEIGHTS = "googlenet_cifar10.pt"
METADATA = "metadata.json"
METRICS = "metrics.json"
ABLATIONS = "ablations.json"


class ReferenceUnavailableError(GooknetError, FileNotFoundError):
    """A shipped result file is missing from the installed package (Jupyter shows the message alone)."""


def _file(name: str) -> Traversable:
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


# ---- Ablations: notebook 04's two experiments, over seeds ----
# Budgets: model width, training images (a slice spread over the training set), test images, recipe, seeds.
ABLATION_BUDGETS = {
    "cpu": dict(width=0.125, train=5000, test=5000, epochs=1, batch_size=64, lr=0.2, seeds=3),
    "gpu": dict(width=0.5, train=50000, test=10000, epochs=8, batch_size=512, lr=0.4, seeds=3),
    "smoke": dict(width=0.125, train=100, test=50, epochs=1, batch_size=25, lr=0.1, seeds=3),
}
ARMS = ("bottleneck", "bottleneck + aux", "naive")
# What each comparison measures: (arm, baseline); a positive difference favours the arm.
COMPARISONS = {"aux_heads": ("bottleneck + aux", "bottleneck"), "reductions": ("bottleneck", "naive")}


def ablation_configs(budget: dict) -> dict[str, TrainConfig]:
    """The TrainConfig of each arm (seed 0) under `budget` (one of ABLATION_BUDGETS):
    - "bottleneck": the small-stem GoogLeNet with Figure 2b modules, no aux heads;
    - "bottleneck + aux": the same with the two auxiliary heads (loss weight 0.3, heads scaled with the width);
    - "naive": Figure 2a modules (pool projection, no 1x1 reductions) at the width where the network's
      multiply-adds match "bottleneck" (`matched_width`). channel_multiple=1 everywhere: the widths are exact.
    """
    base = TrainConfig(
        epochs=budget["epochs"],
        batch_size=budget["batch_size"],
        lr=budget["lr"],
        width=budget["width"],
        channel_multiple=1,
        track_grads=(),
        time_split=False,
    )
    macs = measure(build_model(base), (3, 32, 32)).macs
    return {
        "bottleneck": base,
        "bottleneck + aux": replace(base, aux_logits=True),
        "naive": replace(base, block="naive", width=matched_width(macs)),
    }


def train_arm(arm: str, config: TrainConfig, data: ImageData, progress: bool = False) -> dict:
    """Train one arm with one seed (`config.seed`); its numbers, accuracy on every test image of `data`."""
    model = build_model(config, len(data.classes))
    cost = measure(model, (3, 32, 32))  # eval mode: the aux heads do not run
    start = time.perf_counter()
    history = fit(model, data, config, progress=progress)
    _, final = evaluate(model, data, config)
    return dict(
        arm=arm,
        seed=config.seed,
        config=asdict(config),
        final_test_acc=final,
        best_test_acc=max(history["test_acc"]),
        test_acc=history["test_acc"],
        train_s=sum(history["epoch_s"]),
        wall_s=time.perf_counter() - start,
        params=sum(p.numel() for name, p in model.named_parameters() if not name.startswith("aux")),
        params_with_aux=sum(p.numel() for p in model.parameters()),
        macs=cost.macs,
        device=describe_device(data.device),
    )


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
        verdict = (
            f"no difference at this budget: {100 * difference:+.2f} points, SE {100 * se:.2f} "
            "(the SE is not under a third of the difference)"
        )
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
