"""The GPU goals, measured by one command: the default recipe trained to the end on CIFAR-10, and the speed table.

    python benchmarks/gpu_check.py                              # make gpu-check; a CUDA GPU and CIFAR-10 needed
    python benchmarks/gpu_check.py --data ../shared/data/cifar10-jpeg

Without CUDA it prints one line and exits with status 2. On a CUDA GPU it
1. trains `TrainConfig()` (full width, 24 epochs, batch 512, bf16/fp16 autocast) on the CIFAR-10 training images,
   evaluating on the test images after every epoch, and reports the final test accuracy and the training time
   (evaluation excluded) until the first epoch at >= 93%;
2. reports images/s of that run (`fit`, the epochs after the first, which includes cuDNN's autotuning), peak GPU
   memory, and `benchmarks/speed.py`'s measurements: the bare model step, ours against torchvision's GoogLeNet;
3. writes benchmarks/results/gpu_check.json and the README's GPU table (between its gpu-check markers).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import speed  # benchmarks/speed.py, beside this script
import torch

from gooknet_helpers.data import load_data
from gooknet_helpers.runtime import GooknetError, describe_device
from gooknet_helpers.training import TrainConfig, build_model, fit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "gpu_check.json"
README = ROOT / "README.md"
TABLE = re.compile(r"(<!-- gpu-check:start -->\n).*?(<!-- gpu-check:end -->)", re.DOTALL)
TARGET = 0.93


def train_recipe(data_dir: str | None, device: torch.device, epochs: int) -> dict:
    """The default recipe to the end: accuracy per epoch, time to TARGET, images/s, peak memory."""
    data = load_data(data_dir, device)
    config = TrainConfig(epochs=epochs)
    print(f"{describe_device(device)}: the default recipe on {data.describe()}")
    torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    history = fit(build_model(config, len(data.classes)), data, config)
    wall_s = time.perf_counter() - start
    elapsed = [sum(history["epoch_s"][: i + 1]) for i in range(len(history["epoch"]))]
    reached = next((t for t, acc in zip(elapsed, history["test_acc"], strict=True) if acc >= TARGET), None)
    later = history["images_per_s"][1:] or history["images_per_s"]
    return dict(
        data=data.describe(),
        config=asdict(config),
        final_test_acc=history["test_acc"][-1],
        best_test_acc=max(history["test_acc"]),
        train_s=elapsed[-1],
        wall_s=wall_s,
        seconds_to_target=reached,
        target=TARGET,
        images_per_s=sum(later) / len(later),
        peak_memory_gb=torch.cuda.max_memory_allocated(device) / 1e9,
        history=history,
    )


def render_table(results: dict | None) -> str:
    """The README's GPU table from gpu_check.json's results; every result "unmeasured" without them."""
    epochs = results["recipe"]["config"]["epochs"] if results else TrainConfig().epochs
    labels = [
        "GPU, torch",
        f"default recipe (`TrainConfig()`, {epochs} epochs): final test accuracy",
        f"training time to {TARGET:.0%} test accuracy (evaluation excluded)",
        "recipe images/s (`fit`, data pipeline included)",
        "peak GPU memory of the recipe",
        "model step images/s, ours / torchvision's GoogLeNet (224x224, batch 256)",
    ]
    values = measured_values(results) if results else ["unmeasured"] * len(labels)
    rows = [f"| {label} | {value} |" for label, value in zip(labels, values, strict=True)]
    caption = (
        f"GPU, measured by `python benchmarks/gpu_check.py` on {results['measured']}:"
        if results
        else "GPU: no GPU was available where this was committed, so every result is unmeasured."
    )
    return "\n".join([caption, "", "| what | result |", "|---|---|", *rows]) + "\n"


def measured_values(results: dict) -> list[str]:
    """The table's result column, in `render_table`'s row order."""
    run, rows = results["recipe"], results["speed"]["rows"]
    to_target = run["seconds_to_target"]
    return [
        f"{results['device']}, torch {results['torch']}",
        f"{run['final_test_acc']:.2%}",
        f"{to_target:.0f} s" if to_target is not None else f"not reached in {run['train_s']:.0f} s",
        f"{run['images_per_s']:,.0f}",
        f"{run['peak_memory_gb']:.2f} GB",
        f"{rows['ours']['images_per_s']:,.0f} / {rows['torchvision']['images_per_s']:,.0f} "
        f"(ratio {results['speed']['ratio']:.2f})",
    ]


def update_readme(table: str, readme: Path = README) -> None:
    """Replace the table between the README's gpu-check markers."""
    text = readme.read_text(encoding="utf-8")
    if not TABLE.search(text):
        raise ValueError(f"{readme.name} has no <!-- gpu-check:start --> ... <!-- gpu-check:end --> markers")
    readme.write_text(TABLE.sub(lambda m: m[1] + table + m[2], text), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", help="CIFAR-10 folder (default: GOOKNET_DATA_DIR, else download)")
    p.add_argument("--epochs", type=int, default=TrainConfig().epochs)
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU here; run it on a machine with one (nothing was measured)", file=sys.stderr)
        sys.exit(2)
    device = torch.device("cuda")
    try:
        recipe = train_recipe(args.data, device, args.epochs)
    except GooknetError as error:
        print(f"gpu_check: {error}", file=sys.stderr)
        sys.exit(2)
    results = dict(
        measured=datetime.now(UTC).date().isoformat(),
        device=describe_device(device),
        torch=torch.__version__,
        recipe=recipe,
        speed=speed.measure_all(speed.parse_args([]), device),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    table = render_table(results)
    update_readme(table)
    print(table)


if __name__ == "__main__":
    main()
