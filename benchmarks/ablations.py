"""Notebook 04's two experiments, with seeds enough to rank them: aux heads on/off, naive vs bottleneck modules.

    python benchmarks/ablations.py --data ../shared/data/cifar10-jpeg   # CPU budget (about 20 min on 2 cores)
    python benchmarks/ablations.py --budget gpu                          # a bigger budget for a CUDA GPU
    python benchmarks/ablations.py --synthetic --budget smoke --out /tmp/ablations.json   # seconds (a test)

Three arms, trained with the same recipe (`training.fit`) for every seed:
- "bottleneck": the small-stem GoogLeNet with Figure 2b modules, no aux heads;
- "bottleneck + aux": the same with the two auxiliary heads (loss weight 0.3, heads scaled with the width);
- "naive": Figure 2a modules (pool projection, no 1x1 reductions) at the width where the network's multiply-adds
  match "bottleneck" (`training.matched_width`); channel_multiple=1 in every arm, so widths are exact.
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
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from gooknet_helpers.costs import measure
from gooknet_helpers.data import ImageData, load_data, synthetic_data
from gooknet_helpers.reference import compare_arms
from gooknet_helpers.runtime import describe_device, pick_device
from gooknet_helpers.training import TrainConfig, build_model, evaluate, fit, matched_width

OUT = Path(__file__).resolve().parents[1] / "gooknet_helpers" / "reference" / "ablations.json"
# Budgets: model width, training images (a slice spread over the training set), test images, recipe, seeds.
BUDGETS = {
    "cpu": dict(width=0.125, train=5000, test=5000, epochs=1, batch_size=64, lr=0.2, seeds=3),
    "gpu": dict(width=0.5, train=50000, test=10000, epochs=15, batch_size=512, lr=0.4, seeds=5),
    "smoke": dict(width=0.125, train=100, test=50, epochs=1, batch_size=25, lr=0.1, seeds=3),
}
ARMS = ("bottleneck", "bottleneck + aux", "naive")
# What each comparison measures: (arm, baseline); a positive difference favours the arm.
COMPARISONS = {"aux_heads": ("bottleneck + aux", "bottleneck"), "reductions": ("bottleneck", "naive")}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", choices=tuple(BUDGETS), default="cpu")
    p.add_argument("--seeds", type=int, help="seeds per arm (default: the budget's)")
    p.add_argument("--data", help="ImageFolder or cifar-10-batches-py folder (default: GOOKNET_DATA_DIR, or download)")
    p.add_argument("--synthetic", action="store_true", help="SYNTHETIC images (a test of the script only)")
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (1: two OpenMP threads crawl on a busy CPU)")
    p.add_argument("--out", type=Path, default=OUT, help="JSON file with every run (read to resume, then updated)")
    return p.parse_args(argv)


def arm_configs(budget: dict) -> dict[str, TrainConfig]:
    """The TrainConfig of each arm for seed 0 (the naive width matches the bottleneck network's MACs)."""
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


def train_arm(arm: str, config: TrainConfig, data: ImageData) -> dict:
    """Train one arm with one seed; its numbers (final accuracy on every test image of `data`)."""
    model = build_model(config, len(data.classes))
    cost = measure(model, (3, 32, 32))  # eval mode: the main head only, the same for both aux arms
    start = time.perf_counter()
    history = fit(model, data, config, progress=False)
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
        params=cost.params,
        params_with_aux=sum(p.numel() for p in model.parameters()),
        macs=cost.macs,
        device=describe_device(data.device),
    )


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
    budget = {**BUDGETS[args.budget], **({"seeds": args.seeds} if args.seeds else {})}
    device = pick_device(args.device)
    torch.set_num_threads(args.threads)
    data = synthetic_data() if args.synthetic else load_data(args.data)
    data = data.subset(budget["train"], budget["test"]).to(device)
    description = data.describe().replace(f" from {data.location}", "")  # no paths of this machine in the file
    header = dict(budget={"name": args.budget, **budget}, data=description, torch=torch.__version__)
    results = load_results(args.out, header)
    configs = arm_configs(budget)
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
