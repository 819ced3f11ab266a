"""How to spend a 2-core CPU: one run on 2 threads, or two runs side by side on 1 thread each?

    python benchmarks/threads.py             # on an otherwise idle machine: a few minutes
    python benchmarks/threads.py --steps 3   # quicker and noisier

For the ablation budget (width 0.125, batch 128, no aux heads) and the reference network's size (width 0.25, aux
heads; batch 256), it times the training step (`timing.step_speed`: forward, backward and SGD step, channels_last,
float32) in three layouts, alternated over repeats so that a drift of the machine's speed touches each alike:
- one_run_1_thread: one process pinned to one core, the other core idle;
- one_run_2_threads: one process on both cores;
- two_runs_1_thread: two processes at once, each pinned to its own core; their images/s are added.
Writes benchmarks/results/threads_cpu.json (or --json) and prints the median images/s of each layout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

import torch

from gooknet_helpers.config import TrainConfig, build_model
from gooknet_helpers.files import write_json
from gooknet_helpers.runtime import cpu_model
from gooknet_helpers.timing import step_speed

OUT = Path(__file__).resolve().parent / "results" / "threads_cpu.json"
CASES = {  # name: (width, batch, aux heads)
    "ablation": (0.125, 128, False),
    "reference": (0.25, 256, True),
}
LAYOUTS = ("one_run_1_thread", "one_run_2_threads", "two_runs_1_thread")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=12, help="timed steps per measurement (after 3 warm-up steps)")
    p.add_argument("--repeats", type=int, default=3, help="measurements of each layout")
    p.add_argument("--json", type=Path, default=OUT, help="results file")
    p.add_argument("--worker", nargs=4, metavar=("WIDTH", "BATCH", "AUX", "THREADS"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.steps < 1 or args.repeats < 1:
        p.error(f"--steps and --repeats must be at least 1, got {args.steps} and {args.repeats}")
    return args


def worker(width: float, batch: int, aux: bool, threads: int, steps: int) -> float:
    """Images/s of one training step measurement in this process (the parent has pinned it to its cores)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_model(TrainConfig(width=width, aux_logits=aux), num_classes=10)
    return step_speed(model, torch.device("cpu"), batch_size=batch, steps=steps, warmup=3)[0]


def launch(case: str, threads: int, cores: list[int], steps: int) -> subprocess.Popen:
    width, batch, aux = CASES[case]
    argv = [sys.executable, __file__, "--steps", str(steps), "--worker", str(width), str(batch), str(aux), str(threads)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, text=True, preexec_fn=lambda: os.sched_setaffinity(0, cores)
    )


def measure(case: str, layout: str, steps: int) -> float:
    """Total images/s of `layout` (the sum over its processes)."""
    a, b = sorted(os.sched_getaffinity(0))[:2]
    plan = {LAYOUTS[0]: [(1, [a])], LAYOUTS[1]: [(2, [a, b])], LAYOUTS[2]: [(1, [a]), (1, [b])]}[layout]
    processes = [launch(case, threads, cores, steps) for threads, cores in plan]
    outputs = [p.communicate()[0] for p in processes]
    if any(p.returncode for p in processes):
        sys.exit(f"a measurement of {case}, {layout} failed: see the messages above")
    return sum(float(out.split()[-1]) for out in outputs)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.worker:
        width, batch, aux, threads = args.worker
        print(worker(float(width), int(batch), aux == "True", int(threads), args.steps))
        return {}
    if len(os.sched_getaffinity(0)) < 2:
        sys.exit("this comparison needs 2 CPU cores available to this process (see `taskset -p $$`)")
    load_before = os.getloadavg()[0]
    samples = {case: {layout: [] for layout in LAYOUTS} for case in CASES}
    for repeat in range(args.repeats):
        for case in CASES:
            for layout in LAYOUTS:
                samples[case][layout].append(measure(case, layout, args.steps))
                print(f"repeat {repeat + 1}: {case:<10} {layout:<18} {samples[case][layout][-1]:7.1f} images/s")
    results = dict(
        cpu=cpu_model(),
        torch=torch.__version__,
        steps=args.steps,
        repeats=args.repeats,
        load_average_before=load_before,
        cases={
            case: {
                "width": CASES[case][0],
                "batch": CASES[case][1],
                "aux": CASES[case][2],
                "images_per_s": {layout: statistics.median(values) for layout, values in by_layout.items()},
                "samples": by_layout,
            }
            for case, by_layout in samples.items()
        },
    )
    for case, row in results["cases"].items():
        speeds = row["images_per_s"]
        ratio = speeds[LAYOUTS[2]] / speeds[LAYOUTS[1]]
        row["two_runs_over_two_threads"] = ratio
        print(f"{case}: " + ", ".join(f"{k} {v:.0f}" for k, v in speeds.items()) + f" images/s; ratio {ratio:.2f}")
    write_json(results, args.json)
    return results


if __name__ == "__main__":
    main()
