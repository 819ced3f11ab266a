"""Notebook 04's two experiments, with seeds enough to rank them: aux heads on/off, naive vs bottleneck modules.

    python benchmarks/ablations.py --data ../shared/data/cifar10-jpeg   # CPU budget: 9 runs, about 25 min here
    python benchmarks/ablations.py --budget gpu                          # a budget meant to rank them (CUDA GPU)
    python benchmarks/ablations.py --synthetic --budget smoke --out /tmp/ablations.json   # seconds (a test)

The three arms and the budgets are defined in `gooknet_helpers.reference` (`ablation_configs`, ABLATION_BUDGETS),
so notebook 04 can run the same arms live: "bottleneck" (Figure 2b modules, no aux heads), "bottleneck + aux" (the
same with the two auxiliary heads), "naive" (Figure 2a modules at the width whose multiply-adds match "bottleneck").
Every finished run is written to the JSON file at once, so an interrupted ablation resumes (runs with the same
budget, arm and seed are skipped). At the end it prints, per comparison, the mean difference of final test accuracy
over seeds, its standard error, and whether SE < difference / 3 ("settled") or not ("no difference at this budget").
The default output is package data (`gooknet_helpers/reference/ablations.json`), so notebook 04 finds the committed
numbers wherever the package is installed (Colab included).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import torch

from gooknet_helpers.data import load_data, synthetic_data
from gooknet_helpers.reference import ABLATION_BUDGETS, COMPARISONS, ablation_configs, compare_arms, train_arm
from gooknet_helpers.runtime import describe_device, pick_device

OUT = Path(__file__).resolve().parents[1] / "gooknet_helpers" / "reference" / "ablations.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", choices=tuple(ABLATION_BUDGETS), default="cpu")
    p.add_argument("--seeds", type=int, help="seeds per arm (default: the budget's)")
    p.add_argument("--data", help="ImageFolder or cifar-10-batches-py folder (default: GOOKNET_DATA_DIR, or download)")
    p.add_argument("--synthetic", action="store_true", help="SYNTHETIC images (a test of the script only)")
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (1: two OpenMP threads crawl on a busy CPU)")
    p.add_argument("--out", type=Path, default=OUT, help="JSON file with every run (read to resume, then updated)")
    return p.parse_args(argv)


def load_results(path: Path, header: dict) -> dict:
    """The results file to continue; runs made under another budget or data are dropped (with a note)."""
    if path.exists():
        results = json.loads(path.read_text())
        if {k: results.get(k) for k in ("budget", "data")} == {k: header[k] for k in ("budget", "data")}:
            return results
        print(f"{path.name} holds runs of another budget or data: starting afresh")
    return {**header, "runs": []}


def report(results: dict) -> dict[str, dict]:
    """Print and return each comparison's mean difference, standard error and verdict."""
    comparisons = {name: compare_arms(results["runs"], *arms) for name, arms in COMPARISONS.items()}
    for c in comparisons.values():
        print(
            f"{c['arm']} ({c['mean']:.2%} +- {c['std']:.2%}) vs {c['baseline']} "
            f"({c['mean_baseline']:.2%} +- {c['std_baseline']:.2%}), {c['seeds'][0]} seeds each: {c['verdict']}"
        )
    return comparisons


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    budget = {**ABLATION_BUDGETS[args.budget], **({"seeds": args.seeds} if args.seeds else {})}
    device = pick_device(args.device)
    torch.set_num_threads(args.threads)
    data = synthetic_data() if args.synthetic else load_data(args.data)
    data = data.subset(budget["train"], budget["test"]).to(device)
    description = data.describe().replace(f" from {data.location}", "")  # no paths of this machine in the file
    header = dict(budget={"name": args.budget, **budget}, data=description, torch=torch.__version__)
    results = load_results(args.out, header)
    configs = ablation_configs(budget)
    print(f"{description}\ndevice: {describe_device(device)}; budget {args.budget}: {budget}")
    for seed in range(budget["seeds"]):  # seed by seed, so that a stopped ablation leaves balanced arms
        for arm, config in configs.items():
            if any(r["arm"] == arm and r["seed"] == seed for r in results["runs"]):
                continue
            run = train_arm(arm, replace(config, seed=seed), data)
            results["runs"].append(run)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=1) + "\n")
            print(f"seed {seed} {arm:<17} test accuracy {run['final_test_acc']:.2%}, {run['wall_s']:.0f} s", flush=True)
    results["comparisons"] = report(results)
    args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("stopped; the finished runs are saved: run the same command again to continue")
