"""Re-run the first epoch of the shipped reference model from the command stored with it, and compare.

    python tools/reproduce_first_epoch.py --data ../shared/data/cifar10-jpeg   # about 5 minutes on one CPU core

The command in the reference's metadata.json is parsed by the training command line's own parser, so every
option is the stored one; the run trains its first epoch from the same seed (into a temporary folder, without
--resume), stops there, and prints that epoch's training loss, test loss and test accuracy beside those recorded in
the shipped metrics.json. Floating-point sums differ between CPU models and thread counts, and the differences grow
over an epoch, so the numbers agree closely rather than bit for bit. Writes
benchmarks/results/reference_first_epoch.json (or --json).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

import torch

from gooknet_helpers import train
from gooknet_helpers.config import build_model
from gooknet_helpers.data import load_data
from gooknet_helpers.files import write_json
from gooknet_helpers.reference import reference_metrics, reference_model
from gooknet_helpers.runtime import GooknetError, cpu_model, describe_device, pick_device
from gooknet_helpers.stopping import stop_after_first_epoch
from gooknet_helpers.training import fit

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "reference_first_epoch.json"
PREFIX = ["python", "-m", "gooknet_helpers.train"]
COMPARED = ("train_loss", "test_loss", "test_acc")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", help="the full CIFAR-10 (default: the stored command's --data)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    p.add_argument("--json", type=Path, default=OUT, help="results file")
    return p.parse_args(argv)


def stored_args(command: str, out: str) -> argparse.Namespace:
    """The training options of the stored command, with --out replaced and --resume dropped."""
    words = shlex.split(command)
    if words[:3] != PREFIX:
        raise GooknetError(f"the stored command does not start with {' '.join(PREFIX)!r}: {command!r}")
    args = train.parse_args([*words[3:], "--out", out])
    args.resume = False
    return args


def first_epoch(args: argparse.Namespace) -> dict:
    """Train the stored command's first epoch; the comparison with the recorded one."""
    _, meta = reference_model()
    recorded = reference_metrics()["history"]
    with tempfile.TemporaryDirectory() as out:
        options = stored_args(meta["command"], out)
        device = pick_device(options.device)
        config = train.config_from_args(options)
        data = load_data(args.data or options.data, device)
        history = fit(build_model(config, len(data.classes)), data, config, on_epoch=stop_after_first_epoch)
    return dict(
        command=meta["command"],
        device=describe_device(device),
        cpu=cpu_model() if device.type == "cpu" else None,
        torch=torch.__version__,
        recorded_device=meta["device"],
        recorded_torch=meta["torch"],
        epoch_s=history["epoch_s"][0],
        **{key: {"recorded": recorded[key][0], "now": history[key][0]} for key in COMPARED},
    )


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    result = first_epoch(args)
    for key in COMPARED:
        print(f"epoch 1 {key:<10} recorded {result[key]['recorded']:.4f}, now {result[key]['now']:.4f}")
    write_json(result, args.json)
    return result


if __name__ == "__main__":
    try:
        main()
    except GooknetError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
