"""Training speed of our GoogLeNet beside torchvision's, and time-to-accuracy of the CIFAR-10 recipe.

    python benchmarks/speed.py                       # throughput table (GPU defaults: 224x224, batch 256)
    python benchmarks/speed.py --tta                 # + train the default recipe, time to 93% test accuracy
    python benchmarks/speed.py --steps 3 --width 0.25  # a quick CPU run (64x64, batch 16 / 32)

Throughput is forward + backward + SGD step, images/second, on random input in train mode, mixed precision as
the recipe picks it, channels_last. "ours (torchvision preset)" and "torchvision.models.googlenet" are the same
architecture (batch norm, 3x3 third branch, 2x2 pool4) at the same input size, batch, precision and memory
format, so their ratio compares implementations. Achieved TFLOP/s counts 6 FLOPs per multiply-add of one image
(a forward pass is 2 FLOPs per MAC, the backward pass about twice the forward) with MACs from costs.measure.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torchvision

from gooknet_helpers.costs import measure
from gooknet_helpers.data import batches, load_data, synthetic_data
from gooknet_helpers.network import TORCHVISION, GoogLeNet
from gooknet_helpers.runtime import describe_device, pick_device
from gooknet_helpers.training import TrainConfig, amp_dtype, build_model, fit, step_speed, synchronize


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--size", type=int, help="input side for the ImageNet-stem comparison (default 224, CPU 64)")
    p.add_argument("--batch-size", type=int, help="batch for the comparison (default 256, CPU 16)")
    p.add_argument("--cifar-batch-size", type=int, help="batch for the recipe (default 512, CPU 32)")
    p.add_argument("--steps", type=int, default=20, help="timed steps per model (after warm-up steps)")
    p.add_argument("--repeats", type=int, default=3, help="alternating measurements of ours and torchvision's")
    p.add_argument("--aux", action="store_true", help="include the auxiliary heads in both models")
    p.add_argument("--amp", default="auto", choices=("auto", "bf16", "fp16", "none"))
    p.add_argument("--compile", action="store_true", help="torch.compile every model first")
    p.add_argument("--tta", action="store_true", help="also train the recipe and report time to --target accuracy")
    p.add_argument("--target", type=float, default=0.93, help="test accuracy for --tta")
    p.add_argument("--epochs", type=int, default=TrainConfig().epochs, help="epochs for --tta")
    p.add_argument("--width", type=float, default=TrainConfig().width, help="recipe model width")
    p.add_argument("--max-steps", type=int, help="cap --tta training steps (quick checks)")
    p.add_argument("--data", help="data folder for --tta (default: GOOKNET_DATA_DIR, else download CIFAR-10)")
    p.add_argument("--synthetic", action="store_true", help="--tta on SYNTHETIC images (a quick check only)")
    p.add_argument("--json", help="also write the results to this file")
    return p.parse_args()


def speed_row(name: str, model: torch.nn.Module, size: int, batch: int, args, device: torch.device) -> dict:
    """Images/s, achieved TFLOP/s and peak memory of one model's training step."""
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


def main() -> None:
    args = parse_args()
    device = pick_device(args.device)
    cpu = device.type == "cpu"
    size = args.size or (64 if cpu else 224)
    batch = args.batch_size or (16 if cpu else 256)
    cifar_batch = args.cifar_batch_size or (32 if cpu else TrainConfig().batch_size)
    dtype = amp_dtype(device, args.amp)
    print(f"device: {describe_device(device)} | torch {torch.__version__} | torchvision {torchvision.__version__}")
    print(f"precision: {dtype or torch.float32} | channels_last | compile: {args.compile}\n")

    torch.manual_seed(0)
    tv = torchvision.models.googlenet(weights=None, aux_logits=args.aux, init_weights=True, num_classes=1000)
    ours = GoogLeNet(1000, aux_logits=args.aux, **TORCHVISION)
    recipe = TrainConfig(width=args.width, aux_logits=args.aux)
    best: dict[str, dict] = {}
    for _ in range(args.repeats):  # alternate the pair and keep each one's best run: fairer on a busy machine
        for name, model in (("torchvision.models.googlenet", tv), ("ours (torchvision preset)", ours)):
            row = speed_row(name, model, size, batch, args, device)
            if name not in best or row["images_per_s"] > best[name]["images_per_s"]:
                best[name] = row
    recipe_row = speed_row(
        f"ours (CIFAR recipe, width {args.width:g})", build_model(recipe), 32, cifar_batch, args, device
    )
    rows = [*best.values(), recipe_row]
    print(f"| {'model':<36} | input | batch | GMACs/img | images/s | TFLOP/s | peak GPU GB |")
    print(f"|{'-' * 38}|-------|-------|-----------|----------|---------|-------------|")
    for r in rows:
        peak = f"{r['peak_memory_gb']:.2f}" if r["peak_memory_gb"] is not None else "-"
        print(
            f"| {r['model']:<36} | {r['input']:>5} | {r['batch']:>5} | {r['gmacs_per_image']:>9.3f} | "
            f"{r['images_per_s']:>8,.0f} | {r['tflops']:>7.2f} | {peak:>11} |"
        )
    ratio = rows[1]["images_per_s"] / rows[0]["images_per_s"]
    print(f"\nours / torchvision images/s: {ratio:.2f} (same architecture, same settings)")
    pipeline = data_speed(device, cifar_batch)
    print(
        f"input pipeline alone: {pipeline:,.0f} images/s, so producing batches takes "
        f"{rows[2]['images_per_s'] / pipeline:.1%} of the recipe's training time"
    )
    results = dict(device=describe_device(device), precision=str(dtype), rows=rows, ratio=ratio, data_speed=pipeline)

    if args.tta:
        data = synthetic_data().to(device) if args.synthetic else load_data(args.data, device)
        config = TrainConfig(
            epochs=args.epochs,
            batch_size=cifar_batch,
            width=args.width,
            aux_logits=args.aux,
            amp=args.amp,
            compile=args.compile,
            max_steps=args.max_steps,
            time_split=False,
            track_grads=(),
        )
        print(f"\ntime to accuracy: {data.describe()}")
        start = time.perf_counter()
        history = fit(build_model(config, len(data.classes)), data, config)
        wall = time.perf_counter() - start
        elapsed = [sum(history["epoch_s"][: i + 1]) for i in range(len(history["epoch"]))]
        reached = next((t for t, acc in zip(elapsed, history["test_acc"], strict=True) if acc >= args.target), None)
        when = f"{reached:.0f} s of training" if reached is not None else "not reached"
        print(
            f"final test accuracy {history['test_acc'][-1]:.4f} after {len(history['epoch'])} epochs, "
            f"{sum(history['epoch_s']):.0f} s training ({wall:.0f} s wall with evaluation); "
            f"{args.target:.0%} {when}"
        )
        results["tta"] = dict(config=vars(args), history=history, wall_s=wall, seconds_to_target=reached)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
