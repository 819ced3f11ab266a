"""Notebook 04's controlled experiments: three arms trained over seeds, and the rules that turn them into verdicts.

    configs = ablation_configs(ABLATION_BUDGETS["cpu"])   # {"bottleneck": TrainConfig, "bottleneck + aux": ..., ...}
    run = train_arm("naive", replace(configs["naive"], seed=1), data)      # one (arm, seed): a dict of its numbers
    comparison = compare_arms(runs, "bottleneck + aux", "bottleneck")      # difference, 95% interval, verdict

The arms: "bottleneck" (Figure 2b modules, no aux heads), "bottleneck + aux" (the same with the two auxiliary heads)
and "naive" (Figure 2a modules at the width whose multiply-adds match "bottleneck"). `benchmarks/ablations.py`
runs every (arm, seed) of a budget and commits the results with the package (`reference.ablation_results`).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, replace
from statistics import mean, stdev

from scipy import stats

from .config import TrainConfig, build_model, matched_width
from .costs import measure
from .data import ImageData
from .runtime import describe_device
from .training import evaluate, fit

# Budgets: model width, training and test images (a slice spread over each split), recipe, seeds per arm.
# "cpu" is what the committed results use: the whole of CIFAR-10, at a width a 2-core CPU trains in ~20 minutes.
ABLATION_BUDGETS = {
    "cpu": dict(width=0.125, train=50000, test=10000, epochs=12, batch_size=128, lr=0.1, seeds=4),
    "gpu": dict(width=0.5, train=50000, test=10000, epochs=12, batch_size=512, lr=0.4, seeds=4),
    "smoke": dict(width=0.125, train=100, test=50, epochs=1, batch_size=25, lr=0.1, seeds=3),
}
ARMS = ("bottleneck", "bottleneck + aux", "naive")
# What each comparison measures: (arm, baseline); a positive difference favours the arm.
COMPARISONS = {"aux_heads": ("bottleneck + aux", "bottleneck"), "reductions": ("bottleneck", "naive")}
CONFIDENCE = 0.95  # of the interval around each difference
NO_DIFFERENCE_POINTS = 1.0  # the widest half-width (in points) at which "no difference" may be claimed


def ablation_configs(budget: dict) -> dict[str, TrainConfig]:
    """The TrainConfig of each arm (seed 0) under `budget` (one of ABLATION_BUDGETS). channel_multiple=1: the
    widths are exact, so the naive arm's multiply-adds can match the bottleneck arm's (`matched_width`)."""
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


def welch_interval(a: list[float], b: list[float], confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """mean(a) - mean(b), and the half-width and degrees of freedom of its Welch t-interval.

    Welch's interval does not assume the two arms vary equally over seeds: the standard error is
    sqrt(s_a^2 / n_a + s_b^2 / n_b), and the t quantile uses the Welch-Satterthwaite degrees of freedom.
    """
    va, vb = stdev(a) ** 2 / len(a), stdev(b) ** 2 / len(b)
    se = math.sqrt(va + vb)
    if se == 0:  # identical values within each arm: the interval is the point itself
        return mean(a) - mean(b), 0.0, float(len(a) + len(b) - 2)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return mean(a) - mean(b), float(stats.t.ppf((1 + confidence) / 2, df)) * se, df


def verdict(arm: str, baseline: str, difference: float, half_width: float) -> str:
    """The fixed rules, in points (1 point = 1% accuracy):
    - the interval excludes 0: "<better arm> better by d points";
    - it includes 0 and its half-width h is at most NO_DIFFERENCE_POINTS: "no difference larger than b points",
      b the larger end of the interval in absolute value (every difference the interval leaves possible);
    - otherwise: "unsettled at this budget".
    """
    d, h = 100 * difference, 100 * half_width
    low, high = d - h, d + h
    if low > 0 or high < 0:
        return f"{arm if d > 0 else baseline} better by {abs(d):.2f} points"
    if h <= NO_DIFFERENCE_POINTS:
        return f"no difference larger than {max(abs(low), abs(high)):.2f} points"
    return "unsettled at this budget"


def compare_arms(runs: list[dict], arm: str, baseline: str, key: str = "final_test_acc") -> dict:
    """Mean difference `arm` - `baseline` over seeds, its 95% Welch t-interval, and the verdict of `verdict`."""
    a, b = arm_values(runs, arm, key), arm_values(runs, baseline, key)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"an interval needs 2 seeds per arm, {len(a)} ({arm}) and {len(b)} ({baseline}) so far")
    difference, half_width, df = welch_interval(a, b)
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
        half_width=half_width,
        interval=(difference - half_width, difference + half_width),
        df=df,
        confidence=CONFIDENCE,
        verdict=verdict(arm, baseline, difference, half_width),
    )


def compare_all(runs: list[dict]) -> tuple[dict[str, dict], list[str]]:
    """Every comparison of COMPARISONS that has 2 seeds per arm or more, and one line for each that has not yet."""
    comparisons, waiting = {}, []
    for name, (arm, baseline) in COMPARISONS.items():
        try:
            comparisons[name] = compare_arms(runs, arm, baseline)
        except ValueError as error:
            waiting.append(f"{arm} vs {baseline}: not yet compared: {error}")
    return comparisons, waiting


def comparison_line(c: dict) -> str:
    """One comparison as a line: both means, the difference with its 95% interval, and the verdict."""
    low, high = (100 * v for v in c["interval"])
    return (
        f"{c['arm']} {c['mean']:.2%} vs {c['baseline']} {c['mean_baseline']:.2%} ({c['seeds'][0]} and "
        f"{c['seeds'][1]} seeds): difference {100 * c['difference']:+.2f} points, 95% interval {low:+.2f} to "
        f"{high:+.2f}: {c['verdict']}"
    )
