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

import hashlib
import json
import math
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from .data import ImageData, normalize
from .files import safe_torch_load
from .network import GoogLeNet
from .runtime import GooknetError, check_device

WEIGHTS = "googlenet_cifar10.pt"
METADATA = "metadata.json"
METRICS = "metrics.json"
ABLATIONS = "ablations.json"


class ReferenceUnavailableError(GooknetError, FileNotFoundError):
    """A shipped result file is missing from the installed package (Jupyter shows the message alone)."""


class WeightsError(GooknetError):
    """A weights file that cannot be used: a Git LFS pointer, truncated, damaged, or not such a file."""


RESTORE = (
    "If it is the shipped file (gooknet_helpers/reference/), restore it: `git checkout -- gooknet_helpers/reference/` "
    "(with Git LFS installed, `git lfs pull`), or clone the repository again."
)


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

    Loaded with `weights_only=True`: tensors and plain data only, no code runs. A Git LFS pointer, a truncated or
    damaged file, or another kind of file raises WeightsError, one line saying what to do.
    """
    device = check_device(device)
    state = safe_torch_load(path, "weights file", RESTORE, WeightsError)
    try:
        model = GoogLeNet(**state["model_config"])
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        said = str(error).strip().split("\n")[0][:200]
        raise WeightsError(
            f"{path} is not a GoogLeNet weights file of this package ({type(error).__name__}: {said}). {RESTORE}"
        ) from None
    return model.to(device).eval()


def reference_model(device: torch.device | str = "cpu") -> tuple[GoogLeNet, dict]:
    """The shipped GoogLeNet trained on CIFAR-10 (eval mode, on `device`) and its metadata (test accuracy,
    command, epochs, training time, device, torch version, data). A device this machine lacks, or a damaged weights
    file, raises one line (DeviceError, WeightsError) saying what to do."""
    device = check_device(device)
    with resources.as_file(_file(WEIGHTS)) as path:
        model = load_weights(path, device)
    return model, json.loads(_file(METADATA).read_text())


def reference_metrics() -> dict:
    """The reference run's metrics.json: config, headline numbers and the per-epoch history (curves)."""
    return json.loads(_file(METRICS).read_text())


def ablation_results() -> dict:
    """The committed results of `benchmarks/ablations.py`: its budget and every run (arm, seed, accuracies)."""
    return json.loads(_file(ABLATIONS).read_text())


# ---- guards: does the network at hand match what its metadata says? ----

DIGEST = "weights_sha256"  # the metadata field that fingerprints the shipped weights


def weights_digest(model: nn.Module) -> str:
    """SHA-256 of the model's state dict (names, shapes, values as float32 on the CPU, in name order): the fingerprint
    that `tools/export_reference.py` records in metadata.json. The same weights give the same digest on any device
    and in any memory order; one changed value gives another."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        tensor = tensor.detach().cpu()
        tensor = tensor.float() if tensor.is_floating_point() else tensor
        digest.update(f"{name} {tuple(tensor.shape)} {tensor.dtype}\n".encode())
        digest.update(tensor.contiguous().numpy().tobytes())
    return digest.hexdigest()


@torch.no_grad()
def predicted_classes(model: nn.Module, data: ImageData, batch_size: int = 500) -> torch.Tensor:
    """The classes `model` (in eval mode) predicts for `data`'s test images, on the CPU."""
    was_training = model.training
    model.eval()
    try:
        images = data.test_images
        return torch.cat(
            [model(normalize(images[i : i + batch_size])).argmax(1).cpu() for i in range(0, len(images), batch_size)]
        )
    finally:
        model.train(was_training)


class MetadataCheck(NamedTuple):
    """A network re-measured against its metadata (see `check_against_metadata`)."""

    ok: bool  # every comparison that could be made agrees
    recorded: float  # the test accuracy that the metadata records (on its `test_images` images)
    measured: float | None  # the accuracy measured here; None on synthetic images, where it means nothing
    images: int  # test images measured here
    tolerance: float  # the largest |measured - recorded| that counts as agreeing
    same_weights: bool | None  # the weights' digest against the metadata's; None where the metadata records none

    def describe(self) -> str:
        """One line saying what was compared and how it came out."""
        parts = []
        if self.measured is not None:
            parts.append(
                f"{self.measured:.2%} of {self.images:,} test images here against {self.recorded:.2%} recorded, "
                f"allowed difference {100 * self.tolerance:.1f} points"
            )
        else:
            parts.append(f"{'synthetic' if self.images else 'no'} images: the accuracy is not compared")
        if self.same_weights is not None:
            parts.append(f"weights digest {'the same as' if self.same_weights else 'NOT the same as'} recorded")
        return "; ".join(parts)


def accuracy_tolerance(accuracy: float, images: int, standard_errors: float = 4.0) -> float:
    """`standard_errors` binomial standard errors, sqrt(p (1 - p) / n), of an accuracy p measured on n test images:
    how far a re-measurement on n images may fall from p by the luck of which images they are. At 4 standard errors
    a right network fails it about once in 16,000 draws; an untrained one (10% on CIFAR-10) fails it always."""
    return standard_errors * math.sqrt(accuracy * (1 - accuracy) / images)


def check_against_metadata(
    model: nn.Module,
    metadata: dict,
    data: ImageData | None,
    predictions: torch.Tensor | None = None,
    standard_errors: float = 4.0,
) -> MetadataCheck:
    """Re-measure `model` on `data`'s test images and compare with the test accuracy its `metadata` records (that of
    `reference_model()`), within `standard_errors` binomial standard errors for the number of images measured here
    (`accuracy_tolerance`); where the metadata records a weights digest, compare that too. `predictions`: the
    model's predicted classes for `data.test_images`, if already computed. On synthetic images, or with no images
    (`data` None), only the digest is compared."""
    recorded = metadata["test_acc"]
    same_weights = weights_digest(model) == metadata[DIGEST] if DIGEST in metadata else None
    images = 0 if data is None else len(data.test_labels)
    tolerance = accuracy_tolerance(recorded, images, standard_errors) if images else 0.0
    measured = None
    if data is not None and not data.synthetic:
        if predictions is None:
            predictions = predicted_classes(model, data)
        measured = (predictions.cpu() == data.test_labels.cpu()).float().mean().item()
    checks = [same_weights] if measured is None else [same_weights, abs(measured - recorded) <= tolerance]
    checks = [c for c in checks if c is not None]
    return MetadataCheck(bool(checks) and all(checks), recorded, measured, images, tolerance, same_weights)
