"""Export a finished training run as the reference model that the package ships (gooknet_helpers/reference/).

    python tools/export_reference.py runs/reference --data ../shared/data/cifar10-jpeg \\
        --command "python -m gooknet_helpers.train --data ../shared/data/cifar10-jpeg --width 0.25 --aux ..."

RUN_DIR must hold the `checkpoint.pt` and `metrics.json` that `python -m gooknet_helpers.train` writes (metrics.json
only appears when the run has finished). Written into --out (default: the package's reference/ folder):
- googlenet_cifar10.pt: the model's float32 state dict and its configuration (`GoogLeNet.config`), nothing else
  (no optimizer state), loadable with `weights_only=True`;
- metadata.json: the test accuracy, re-measured now by evaluating the exported file on every test image of --data,
  beside the accuracy logged during training; the exact command; epochs, steps and training time (evaluation
  excluded); the device and CPU model; torch version; the data (sizes and folder name, no absolute path);
  parameters (without and with the aux heads) and multiply-adds; the weights' SHA-256 digest
  (`reference.weights_digest`); dates of the run's end and of the export;
- metrics.json: the run's curves and headline numbers, copied unchanged.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import torch

from gooknet_helpers.config import TrainConfig
from gooknet_helpers.costs import measure
from gooknet_helpers.data import CIFAR10_CLASSES, DataUnavailableError, ImageData, load_data
from gooknet_helpers.reference import METADATA, METRICS, WEIGHTS, load_weights, weights_digest
from gooknet_helpers.runtime import cpu_model
from gooknet_helpers.training import predict

PACKAGE_FOLDER = Path(__file__).resolve().parents[1] / "gooknet_helpers" / "reference"


def describe_data(data: ImageData) -> str:
    """The data in one line, with the folder's name only (no absolute path of this machine)."""
    kind = "CIFAR-10" if tuple(data.classes) == CIFAR10_CLASSES else data.source
    return (
        f"{kind}: {len(data.train_labels):,} train / {len(data.test_labels):,} test images, "
        f"{len(data.classes)} classes, from the folder {Path(data.location).name}/"
    )


def finished_run(run_dir: Path) -> tuple[dict, dict]:
    """The checkpoint state and metrics of a finished run; ValueError naming what is missing."""
    checkpoint, metrics = run_dir / "checkpoint.pt", run_dir / METRICS
    if not checkpoint.exists():
        raise ValueError(f"{checkpoint} does not exist: is {run_dir} the --out folder of a training run?")
    if not metrics.exists():
        raise ValueError(f"{metrics} does not exist: the run has not finished (it is written at the end)")
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    summary = json.loads(metrics.read_text())
    if math.ceil(summary["history"]["epoch"][-1]) != state["epoch"]:  # a run cut by max_steps ends at epoch 0.25, say
        raise ValueError(f"{checkpoint} (epoch {state['epoch']}) and {metrics} disagree: is the run still going?")
    return state, summary


def export(run_dir: Path, out: Path, data: ImageData, command: str) -> dict:
    """Write the weights, metadata and curves of the finished run in `run_dir` into `out`; returns the metadata."""
    state, summary = finished_run(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / WEIGHTS
    model_state = {name: t.float() if t.is_floating_point() else t for name, t in state["model"].items()}
    torch.save({"model": model_state, "model_config": state["model_config"]}, weights)
    model = load_weights(weights, data.device)  # measure the file as users will load it
    config = TrainConfig(**{**state["config"], "track_grads": tuple(state["config"]["track_grads"])})
    predictions = predict(model, data, config).argmax(1)
    cost = measure(model, (3, 32, 32))
    metadata = dict(
        test_acc=(predictions == data.test_labels).float().mean().item(),
        test_images=len(data.test_labels),
        test_acc_logged=summary["final_test_acc"],
        best_test_acc_logged=summary["best_test_acc"],
        command=command,
        config=state["config"],
        model_config=state["model_config"],
        epochs=state["epoch"],
        steps=state["step"],
        train_s=summary["train_s"],
        train_hours=summary["train_s"] / 3600,
        images_per_s=summary["images_per_s"],
        device=summary["device"],
        cpu=cpu_model() if summary["device"].startswith("cpu") else None,
        torch=torch.__version__,
        data=describe_data(data),
        params=sum(p.numel() for name, p in model.named_parameters() if not name.startswith("aux")),
        params_with_aux=sum(p.numel() for p in model.parameters()),
        macs=cost.macs,
        weights_bytes=weights.stat().st_size,
        weights_sha256=weights_digest(model),  # reference.check_against_metadata compares it
        trained_until=datetime.fromtimestamp((run_dir / METRICS).stat().st_mtime, UTC).isoformat(timespec="seconds"),
        exported=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    (out / METADATA).write_text(json.dumps(metadata, indent=1) + "\n")
    shutil.copyfile(run_dir / METRICS, out / METRICS)
    return metadata


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("run_dir", type=Path, help="the --out folder of a finished `python -m gooknet_helpers.train` run")
    p.add_argument("--command", required=True, help="the exact command that trained the run (recorded verbatim)")
    p.add_argument("--data", help="the run's data folder, to re-measure the test accuracy (default: GOOKNET_DATA_DIR)")
    p.add_argument("--out", type=Path, default=PACKAGE_FOLDER, help="where to write (default: the package's folder)")
    args = p.parse_args(argv)
    try:
        data = load_data(args.data, download=False)
        metadata = export(args.run_dir, args.out, data, args.command)
    except (ValueError, DataUnavailableError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    print(
        f"test accuracy of the exported weights: {metadata['test_acc']:.2%} on {metadata['test_images']:,} test "
        f"images (logged at the end of training: {metadata['test_acc_logged']:.2%}); written to {args.out}"
    )


if __name__ == "__main__":
    main()
