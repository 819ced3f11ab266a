"""Training speed: the recipe as users run it (`fit`), the bare model step, and ours beside torchvision's GoogLeNet.

    python benchmarks/speed.py                  # a GPU: full width, batch 512 recipe; 224x224, batch 256 comparison
    python benchmarks/speed.py                  # a CPU: the reference run's width 0.25, batch 256; 64x64, batch 16
    python benchmarks/speed.py --steps 3        # quicker and noisier

Writes benchmarks/results/speed_<device type>.json (or --json) and prints a table:
- "recipe: fit": images/s of `training.fit` at the default settings of `TrainConfig` (on a CPU at the reference
  run's width and batch): the on-device data pipeline (shuffle, crop + flip, normalise), the step with its
  gradient-norm tracking, timing and loss bookkeeping, measured after a first call has warmed up cuDNN's autotuner
  (and torch.compile with --compile); evaluation at the end is not timed. Random uint8 images of CIFAR-10's size
  (50,000 of them): the speed does not depend on the pixels.
- "step: CIFAR model": the same network's bare forward + backward + SGD step on one random batch (no data pipeline,
  no bookkeeping): the gap to "recipe: fit" is what the rest of the loop costs.
- "ours (torchvision preset)" and "torchvision.models.googlenet": the same architecture (batch norm, 3x3 third
  branch, 2x2 pool4) at the same input size, batch, precision and memory format, so their ratio compares
  implementations.
Achieved TFLOP/s counts 6 FLOPs per multiply-add of one image (2 per MAC forward, about twice that backward) with
MACs from costs.measure. `benchmarks/gpu_check.py` adds the full training run (time to 93%) on a CUDA GPU.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch
import torchvision

from gooknet_helpers.config import TrainConfig, amp_dtype, build_model
from gooknet_helpers.costs import measure
from gooknet_helpers.data import CIFAR10_CLASSES, ImageData, batches
from gooknet_helpers.files import write_json
from gooknet_helpers.network import TORCHVISION, GoogLeNet
from gooknet_helpers.runtime import describe_device, pick_device, synchronize
from gooknet_helpers.timing import step_speed
from gooknet_helpers.training import fit

RESULTS = Path(__file__).resolve().parent / "results"
CPU_RECIPE = dict(width=0.25, batch_size=256)  # the reference network's width, at batch 256; the rest are the defaults


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--size", type=int, help="input side for the ImageNet-stem comparison (default 224, CPU 64)")
    p.add_argument("--batch-size", type=int, help="batch for the comparison (default 256, CPU 16)")
    p.add_argument("--width", type=float, help="recipe model width (default 1, CPU 0.25)")
    p.add_argument("--cifar-batch-size", type=int, help="recipe batch (default 512, CPU 256)")
    p.add_argument("--steps", type=int, default=20, help="timed steps per measurement (after warm-up steps)")
    p.add_argument("--repeats", type=int, default=3, help="alternating measurements of ours and torchvision's")
    p.add_argument("--aux", action="store_true", help="include the auxiliary heads in every model")
    p.add_argument("--amp", default="auto", choices=("auto", "bf16", "fp16", "none"))
    p.add_argument("--compile", action="store_true", help="torch.compile every model first")
    p.add_argument("--images", type=int, default=50_000, help="random CIFAR-sized training images for the recipe")
    p.add_argument("--threads", type=int, help="CPU threads (default: torch's; 1 is steadier on a busy machine)")
    p.add_argument("--json", type=Path, help="results file (default: benchmarks/results/speed_<device>.json)")
    return p.parse_args(argv)


def speed_row(name: str, model: torch.nn.Module, size: int, batch: int, args, device: torch.device) -> dict:
    """Images/s, achieved TFLOP/s and peak memory of one model's bare training step on random input."""
    macs = measure(model, (3, size, size)).macs  # eval-mode forward, main head only
    if args.compile:
        model = torch.compile(model)
    warmup = 5 if args.compile or device.type != "cpu" else 1
    images_per_s, peak = step_speed(model, device, (3, size, size), batch, args.amp, args.steps, warmup)
    return dict(
        model=name,
        input=f"{size}x{size}",
        batch=batch,
        gmacs_per_image=macs / 1e9,
        images_per_s=images_per_s,
        tflops=images_per_s * 6 * macs / 1e12,
        peak_memory_gb=peak / 1e9 if peak is not None else None,
    )


def random_cifar(device: torch.device, train: int = 50_000, test: int = 1_000) -> ImageData:
    """Random uint8 images and labels of CIFAR-10's shape on `device` (for timing only)."""
    g = torch.Generator().manual_seed(0)
    images = [torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g) for n in (train, test)]
    labels = [torch.randint(0, 10, (n,), generator=g) for n in (train, test)]
    data = ImageData(images[0], labels[0], images[1], labels[1], CIFAR10_CLASSES, "random", "random (timing only)")
    return data.to(device)


def recipe_row(config: TrainConfig, data: ImageData, steps: int, warmup: int) -> dict:
    """Images/s of `fit` as users run it, over `steps` steps after a first `fit` call of `warmup` steps."""
    model = build_model(config, len(data.classes))
    fit(model, data, replace(config, max_steps=warmup), progress=False)  # cuDNN autotuning, compilation
    device = data.device
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    history = fit(model, data, replace(config, max_steps=steps), progress=False)
    macs = measure(model, (3, 32, 32)).macs
    images_per_s = history["images_per_s"][-1]
    return dict(
        model=f"recipe: fit (width {config.width:g})",
        input="32x32",
        batch=config.batch_size,
        gmacs_per_image=macs / 1e9,
        images_per_s=images_per_s,
        tflops=images_per_s * 6 * macs / 1e12,
        peak_memory_gb=torch.cuda.max_memory_allocated(device) / 1e9 if device.type == "cuda" else None,
        data_fraction=history["data_s"][-1] / history["epoch_s"][-1] if history["data_s"][-1] is not None else None,
        config=asdict(config),
    )


def data_speed(device: torch.device, batch: int, n: int = 50_000) -> float:
    """Images/s of the on-device input pipeline alone (shuffle, crop + flip, normalise) over one CIFAR-sized epoch."""
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, device=device)
    labels = torch.randint(0, 10, (n,), device=device)
    synchronize(device)
    start = time.perf_counter()
    for _ in batches(images, labels, batch, train=True):
        pass
    synchronize(device)
    return n / (time.perf_counter() - start)


def print_table(rows: list[dict]) -> None:
    print(f"| {'what':<36} | input | batch | GMACs/img | images/s | TFLOP/s | peak GPU GB |")
    print(f"|{'-' * 38}|-------|-------|-----------|----------|---------|-------------|")
    for r in rows:
        peak = f"{r['peak_memory_gb']:.2f}" if r["peak_memory_gb"] is not None else "-"
        print(
            f"| {r['model']:<36} | {r['input']:>5} | {r['batch']:>5} | {r['gmacs_per_image']:>9.3f} | "
            f"{r['images_per_s']:>8,.0f} | {r['tflops']:>7.2f} | {peak:>11} |"
        )


def measure_all(args: argparse.Namespace, device: torch.device) -> dict:
    """Every measurement of the table, as a results dict (rows keyed by what they time)."""
    cpu = device.type == "cpu"
    size, batch = args.size or (64 if cpu else 224), args.batch_size or (16 if cpu else 256)
    recipe_settings = CPU_RECIPE if cpu else {}
    width = args.width or recipe_settings.get("width", TrainConfig().width)
    cifar_batch = args.cifar_batch_size or recipe_settings.get("batch_size", TrainConfig().batch_size)
    recipe = TrainConfig(width=width, batch_size=cifar_batch, aux_logits=args.aux, amp=args.amp, compile=args.compile)
    data = random_cifar(device, args.images)
    fit_row = recipe_row(recipe, data, args.steps, warmup=1 if cpu and not args.compile else 5)
    step_row = speed_row(f"step: CIFAR model (width {width:g})", build_model(recipe), 32, cifar_batch, args, device)
    torch.manual_seed(0)
    tv = torchvision.models.googlenet(weights=None, aux_logits=args.aux, init_weights=True, num_classes=1000)
    ours = GoogLeNet(1000, aux_logits=args.aux, **TORCHVISION)
    pair = (("torchvision", "torchvision.models.googlenet", tv), ("ours", "ours (torchvision preset)", ours))
    best: dict[str, dict] = {}
    for _ in range(args.repeats):  # alternate the pair and keep each one's best run: fairer on a busy machine
        for key, name, model in pair:
            row = speed_row(name, model, size, batch, args, device)
            if key not in best or row["images_per_s"] > best[key]["images_per_s"]:
                best[key] = row
    return dict(
        device=describe_device(device),
        load_average=os.getloadavg()[0] if hasattr(os, "getloadavg") else None,  # other work on a shared machine
        torch=torch.__version__,
        torchvision=torchvision.__version__,
        precision=str(amp_dtype(device, args.amp) or torch.float32),
        compile=args.compile,
        rows={"recipe": fit_row, "step": step_row, **best},
        ratio=best["ours"]["images_per_s"] / best["torchvision"]["images_per_s"],
        pipeline_images_per_s=data_speed(device, cifar_batch, args.images),
    )


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    device = pick_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"device: {describe_device(device)} | torch {torch.__version__} | torchvision {torchvision.__version__}")
    results = measure_all(args, device)
    print(f"precision: {results['precision']} | channels_last | compile: {args.compile}\n")
    print_table(list(results["rows"].values()))
    rows = results["rows"]
    print(f"\nours / torchvision images/s: {results['ratio']:.2f} (same architecture, same settings)")
    print(
        f"recipe / bare step: {rows['recipe']['images_per_s'] / rows['step']['images_per_s']:.2f} (what the data "
        f"pipeline and bookkeeping cost); input pipeline alone: {results['pipeline_images_per_s']:,.0f} images/s"
    )
    path = args.json or RESULTS / f"speed_{device.type}.json"
    write_json(results, path)  # atomic: a crash or full disk leaves the previous results whole
    if results["load_average"] is not None:
        print(f"load average over the last minute: {results['load_average']:.1f} (other work slows a shared CPU)")
    print(f"results in {path.name}")
    return results


if __name__ == "__main__":
    main()
