"""The results this package ships: a GoogLeNet trained on CIFAR-10, its curves, and the ablation experiments.

They live in the package folder `gooknet_helpers/reference/` (package data), so a `pip install` of the
repository and Colab get them too:

    model, meta = reference_model()      # the trained network in eval mode, and how it was made
    meta["test_acc"], meta["command"]    # accuracy on the 10,000 CIFAR-10 test images, the command that trained it
    curves = reference_metrics()         # the run's metrics.json: per-epoch history and headline numbers
    runs = ablation_results()["runs"]    # every run of benchmarks/ablations.py (arm, seed, accuracies, ...)

`tools/export_reference.py` writes the weights and metadata from a finished training run; the ablation's arms and
verdict rules live in `ablations.py`.
"""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import torch

from .network import GoogLeNet
from .runtime import GooknetError

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
