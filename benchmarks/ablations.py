"""Notebook 04's experiments over seeds: aux heads on/off, naive vs bottleneck modules at matched multiply-adds.

    python benchmarks/ablations.py --data ../shared/data/cifar10-jpeg &   # the committed CPU budget:
    python benchmarks/ablations.py --data ../shared/data/cifar10-jpeg     #   two workers side by side
    python benchmarks/ablations.py --report                                      # print the verdicts, train nothing
    python benchmarks/ablations.py --budget gpu                                  # a CUDA GPU: a wider network
    python benchmarks/ablations.py --synthetic --budget smoke --out /tmp/a.json  # seconds (a test of the script)

The arms, budgets and verdict rules are in `gooknet_helpers.ablations`. Resumable across sessions and machines:
every finished run is written to the JSON file at once (atomically), and a later call runs only the (arm, seed)
pairs that are missing, seed by seed, so a stopped ablation leaves balanced arms. Two calls side by side (one
thread each, the best use of a 2-core CPU measured here: see the README) share the work: under a lock, each claims
the next pair that is neither saved nor claimed by a live worker, and adds its run to the file, keeping the other's.
The default
output is package data (`gooknet_helpers/reference/ablations.json`), so notebook 04 finds the committed numbers
wherever the package is installed (Colab included): commit it after each finished run.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import torch

from gooknet_helpers.ablations import ABLATION_BUDGETS, ARMS, ablation_configs, compare_all, comparison_line, train_arm
from gooknet_helpers.data import ImageData, load_data, synthetic_data
from gooknet_helpers.files import write_json
from gooknet_helpers.runtime import GooknetError, describe_device, pick_device

OUT = Path(__file__).resolve().parents[1] / "gooknet_helpers" / "reference" / "ablations.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", choices=tuple(ABLATION_BUDGETS), default="cpu")
    p.add_argument("--seeds", type=int, help="seeds per arm (default: the budget's)")
    p.add_argument("--data", help="ImageFolder or cifar-10-batches-py folder (default: GOOKNET_DATA_DIR, or download)")
    p.add_argument("--synthetic", action="store_true", help="SYNTHETIC images (a test of the script only)")
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads")
    p.add_argument("--out", type=Path, default=OUT, help="JSON file with every run (read to resume, then updated)")
    p.add_argument("--report", action="store_true", help="print the comparisons of the runs in --out; train nothing")
    args = p.parse_args(argv)
    for name in ("seeds", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name} must be at least 1, got {value}")
    return args


def load_results(path: Path, header: dict) -> dict:
    """The results file to continue. One made under another budget or data is not mixed in: an error says so."""
    if not path.exists():
        return {**header, "runs": []}
    results = json.loads(path.read_text())
    for key in ("budget", "data"):
        if results.get(key) != header[key]:
            raise GooknetError(
                f"{path} holds runs with another {key} ({results.get(key)}, now {header[key]}): "
                "name another --out, or move that file away to start afresh"
            )
    return results


def report(results: dict) -> None:
    """Print each comparison that has 2 seeds per arm or more (the others get a line saying so)."""
    comparisons, waiting = compare_all(results["runs"])
    for line in [*map(comparison_line, comparisons.values()), *waiting]:
        print(line)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path`'s lock file (released by the OS if the process dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def claims_path(path: Path) -> Path:
    """Which worker trains which pair now: {"arm/seed": pid}, beside the results (a local file, not committed)."""
    return path.with_name(f".{path.name}.claims")


def live_claims(path: Path) -> dict[str, int]:
    """The claims of workers still running on this machine (a stopped worker's claim lapses with its process)."""
    file = claims_path(path)
    claims = json.loads(file.read_text()) if file.exists() else {}
    return {pair: pid for pair, pid in claims.items() if pid_alive(pid)}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_next(path: Path, header: dict, pairs: list[tuple[str, int]]) -> tuple[str, int] | None:
    """Under the lock, claim the first pair that is neither saved nor claimed by a live worker (None: all taken)."""
    with locked(path):
        saved = {(r["arm"], r["seed"]) for r in load_results(path, header)["runs"]}
        claims = live_claims(path)
        free = [p for p in pairs if p not in saved and f"{p[0]}/{p[1]}" not in claims]
        if free:
            claims[f"{free[0][0]}/{free[0][1]}"] = os.getpid()
        write_json(claims, claims_path(path))
    return free[0] if free else None


def save_run(path: Path, header: dict, run: dict) -> dict:
    """Add `run` and the comparisons to the file under a lock, re-reading it first: other workers' runs are kept."""
    with locked(path):
        results = load_results(path, header)
        if not any(r["arm"] == run["arm"] and r["seed"] == run["seed"] for r in results["runs"]):
            results["runs"].append(run)
        results["comparisons"] = compare_all(results["runs"])[0]
        write_json(results, path)
    return results


def run_missing(args: argparse.Namespace, budget: dict, header: dict, data: ImageData) -> dict:
    """Train the pairs that the file lacks, seed by seed, claiming each first; each is saved as soon as it ends."""
    configs = ablation_configs(budget)
    pairs = [(arm, seed) for seed in range(budget["seeds"]) for arm in ARMS]
    saved = {(r["arm"], r["seed"]) for r in load_results(args.out, header)["runs"]}
    print(f"{len(saved)} of {len(pairs)} runs saved; {len(set(pairs) - saved)} to train", flush=True)
    while (pair := claim_next(args.out, header, pairs)) is not None:
        arm, seed = pair
        run = train_arm(arm, replace(configs[arm], seed=seed), data)
        results = save_run(args.out, header, run)
        print(
            f"seed {seed} {arm:<17} test accuracy {run['final_test_acc']:.2%}, {run['train_s']:.0f} s "
            f"({len(results['runs'])} of {len(pairs)} runs saved)",
            flush=True,
        )
    return load_results(args.out, header)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    budget = {**ABLATION_BUDGETS[args.budget], **({"seeds": args.seeds} if args.seeds else {})}
    if args.report:
        results = json.loads(args.out.read_text())
    else:
        data = synthetic_data() if args.synthetic else load_data(args.data)
        data = data.subset(budget["train"], budget["test"])
        description = data.describe().replace(f" from {data.location}", "")  # no paths of this machine in the file
        device = pick_device(args.device)
        torch.set_num_threads(args.threads)
        print(f"{description}\ndevice: {describe_device(device)}; budget {args.budget}: {budget}")
        header = dict(
            budget={"name": args.budget, **{k: v for k, v in budget.items() if k != "seeds"}}, data=description
        )
        torch.set_num_threads(args.threads)
        results = run_missing(args, budget, header, data.to(device))
    report(results)


def cli(argv: list[str] | None = None) -> None:
    """`main` with expected failures as one line and exit status 2 (as argparse's usage errors), no traceback."""
    try:
        main(argv)
    except GooknetError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit("stopped; the finished runs are saved: run the same command again to continue")


if __name__ == "__main__":
    cli()
