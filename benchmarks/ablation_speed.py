"""How long notebook 05's branch ablation (section 4) takes, and how its standard errors grow with fewer images.

    python benchmarks/ablation_speed.py --data ../shared/data/cifar10-jpeg     # the CIFAR-10 test images
    python benchmarks/ablation_speed.py --threads 2 --images 2000 10000 --compare

Runs `analysis.ablate_branches` (36 experiments: each of the 4 branches of the 9 Inception modules switched off in
turn) on the shipped reference network for each --images count (the first N test images of an even spread, as the
notebook takes them), and writes benchmarks/results/ablation_speed_<device>.json (or --json) with the wall and CPU
seconds, the threads, the machine's load average when each run started, and the largest standard error of a drop.
--compare also times the way it was done before (re-running the switched-off module with a `switch_off` hook), to
show what recording the modules' outputs saves. The load average says how busy the machine was: on a shared
machine the wall time can be several times the CPU time.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from gooknet_helpers.analysis import (
    BRANCHES,
    Ablation,
    ablate_branches,
    capture,
    evaluating,
    inception_modules,
    run_from,
    switch_off,
)
from gooknet_helpers.data import batches, load_data, synthetic_data
from gooknet_helpers.files import write_json
from gooknet_helpers.reference import reference_model
from gooknet_helpers.runtime import describe_device, pick_device
from gooknet_helpers.shapes import trace_shapes


@torch.no_grad()
def hooked_ablation(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500):
    """The earlier method: record each module's input, re-run the module with a branch hooked to zeros and the rest."""
    modules = inception_modules(model)
    layers = trace_shapes(model, images.shape[-1])
    ablated = []
    with evaluating(model):
        for x, y in batches(images, labels, batch_size):
            with capture(modules, inputs=True) as inputs:
                model(x)
            per_module = []
            for name, module in modules.items():
                per_branch = []
                for branch in BRANCHES:
                    with switch_off(module, branch):
                        per_branch.append(run_from(model, layers, name, inputs[name]).argmax(1) == y)
                per_module.append(torch.stack(per_branch))
            ablated.append(torch.stack(per_module))
    return torch.cat(ablated, -1)


def timed(work) -> tuple[object, dict]:
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, {
        "wall_s": round(time.perf_counter() - wall, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "load_average_1min": round(load, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="CIFAR-10 folder (default: GOOKNET_DATA_DIR or the download)")
    parser.add_argument("--images", type=int, nargs="+", default=[2000, 10000], help="test images per run")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--compare", action="store_true", help="also time the earlier, hook-based method")
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    parser.add_argument("--synthetic", action="store_true", help="synthetic stand-in images (the tests)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device()
    model, meta = reference_model(device)
    data = synthetic_data().to(device) if args.synthetic else load_data(args.data, device=device)
    results = {
        "device": describe_device(device),
        "cpus_available": len(os.sched_getaffinity(0)),
        "torch": torch.__version__,
        "reference_test_acc": meta["test_acc"],
        "test_images": len(data.test_labels),
        "runs": {},  # "outputs_2000": the package's method on 2,000 images; "hooked_2000": the earlier one
    }
    total = len(data.test_labels)
    for count in args.images:
        sample = torch.linspace(0, total - 1, min(count, total)).long().to(device)
        images, labels = data.test_images[sample], data.test_labels[sample]
        ablation, run = timed(
            lambda images=images, labels=labels: ablate_branches(model, images, labels, progress=False)
        )
        assert isinstance(ablation, Ablation)
        run.update(method="recorded outputs (ablate_branches)", images=len(sample))
        run["max_standard_error_points"] = round(ablation.standard_errors().max().item(), 2)
        print(run, flush=True)
        results["runs"][f"outputs_{len(sample)}"] = run
        if args.compare:
            hooked, run = timed(lambda images=images, labels=labels: hooked_ablation(model, images, labels))
            assert torch.equal(hooked.cpu(), ablation.ablated.cpu()), "the two methods disagree"
            run.update(method="re-run the module with a hook (before)", images=len(sample))
            print(run, flush=True)
            results["runs"][f"hooked_{len(sample)}"] = run
    path = args.json or Path(__file__).parent / "results" / f"ablation_speed_{device.type}.json"
    write_json(results, path)
    print(f"written: {path}")


if __name__ == "__main__":
    main()
