"""Train GoogLeNet on CIFAR-10 from the command line; writes metrics.json and a checkpoint.

    python -m gooknet_helpers.train --out runs/full                        # the default recipe, one GPU
    python -m gooknet_helpers.train --data path/to/imagefolder --width 0.125 --epochs 5 --batch-size 64 --lr 0.2
    torchrun --nproc_per_node=4 -m gooknet_helpers.train --batch-size 128  # 4 GPUs x 128 = the same global batch

Under torchrun every process holds the whole training set on its GPU and trains on its shard of each epoch;
--batch-size is per process, so the global batch is nproc x batch size (scale --lr with it if you change it).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict
from pathlib import Path

import torch
import torch.distributed as dist

from .data import load_data, synthetic_data
from .runtime import describe_device, pick_device
from .training import TrainConfig, build_model, fit, save_metrics, summarize


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = TrainConfig()
    p = argparse.ArgumentParser(prog="python -m gooknet_helpers.train", description=__doc__.split("\n")[0])
    p.add_argument(
        "--data", help="ImageFolder or cifar-10-batches-py folder (default: GOOKNET_DATA_DIR, else download)"
    )
    p.add_argument("--synthetic", action="store_true", help="train on the built-in SYNTHETIC images (a quick check)")
    p.add_argument("--out", default="runs/train", help="output folder for metrics.json and checkpoint.pt")
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--epochs", type=int, default=defaults.epochs)
    p.add_argument("--batch-size", type=int, default=defaults.batch_size, help="per process")
    p.add_argument("--lr", type=float, default=defaults.lr, help="peak learning rate of the one-cycle schedule")
    p.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    p.add_argument("--label-smoothing", type=float, default=defaults.label_smoothing)
    p.add_argument("--width", type=float, default=defaults.width, help="channel multiplier")
    p.add_argument("--block", choices=("inception", "naive"), default=defaults.block)
    p.add_argument("--aux", action="store_true", help="train with the two auxiliary heads (loss weight 0.3)")
    p.add_argument("--amp", choices=("auto", "bf16", "fp16", "none"), default=defaults.amp)
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--max-steps", type=int, help="stop after this many steps (the schedule is shortened to fit)")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt if it exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    distributed = "LOCAL_RANK" in os.environ  # set by torchrun
    device = pick_device(args.device)
    if distributed:
        local_rank = int(os.environ["LOCAL_RANK"])
        if device.type == "cuda":
            device = torch.device("cuda", local_rank)
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank = dist.get_rank() if distributed else 0
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing,
        width=args.width,
        block=args.block,
        aux_logits=args.aux,
        amp=args.amp,
        compile=args.compile,
        max_steps=args.max_steps,
        seed=args.seed,
    )
    data = synthetic_data().to(device) if args.synthetic else load_data(args.data, device)
    if rank == 0:
        world = dist.get_world_size() if distributed else 1
        print(f"data: {data.describe()}\ndevice: {describe_device(device)} x {world} process(es)")
        print(f"config: {asdict(config)}")
    model = build_model(config, len(data.classes))
    out = Path(args.out)
    history = fit(
        model, data, config, checkpoint=out / "checkpoint.pt", resume=args.resume, progress=not args.no_progress
    )
    if rank == 0:
        summary = summarize(config, history, data, model)
        path = save_metrics(summary, out)
        print(
            f"test accuracy {summary.final_test_acc:.4f} (best {summary.best_test_acc:.4f}) after "
            f"{summary.train_s:.1f} s of training, {summary.images_per_s:,.0f} images/s; metrics in {path}"
        )
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
