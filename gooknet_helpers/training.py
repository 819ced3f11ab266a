"""Training GoogLeNet on CIFAR-10: a config as plain data, one `fit` loop, evaluation, checkpoints.

The recipe: SGD with Nesterov momentum, a one-cycle learning rate (linear warm-up, linear decay), label
smoothing, weight decay on weights only (not on batch norm or biases), mixed precision (bf16 where the GPU
has it, fp16 with a gradient scaler otherwise), channels_last memory order, and optionally torch.compile.
The images stay on the device as uint8 and are augmented there (see `data.py`).
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .costs import measure
from .data import ImageData, batches, steps_per_epoch
from .network import CIFAR, GoogLeNet, GoogLeNetOutputs, googlenet_loss
from .runtime import describe_device, seed_everything


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved with checkpoints and metrics."""

    epochs: int = 24
    batch_size: int = 512
    lr: float = 0.4  # peak learning rate of the one-cycle schedule (0.1 per 128 images)
    warmup: float = 0.2  # fraction of the steps spent rising to the peak
    momentum: float = 0.9
    weight_decay: float = 5e-4  # on conv and linear weights only
    label_smoothing: float = 0.1
    width: float = 1.0  # channel multiplier of GoogLeNet
    block: str = "inception"  # or "naive" (Figure 2a with pool projection)
    aux_logits: bool = False
    aux_weight: float = 0.3  # the paper's weight of each auxiliary loss
    amp: str = "auto"  # "auto", "bf16", "fp16" or "none"
    channels_last: bool = True
    compile: bool = False
    max_steps: int | None = None  # stop early (smoke runs); the schedule spans min(max_steps, all steps)
    time_split: bool = True  # synchronise around the data step to measure data vs compute time
    track_grads: tuple[str, ...] = ("conv1", "inception3a", "inception4a")  # modules whose gradient norm is logged
    seed: int = 0
    eval_batch_size: int = 1000

    def total_steps(self, num_train: int, world_size: int = 1) -> int:
        steps = self.epochs * steps_per_epoch(num_train, self.batch_size, world_size)
        return min(steps, self.max_steps) if self.max_steps else steps


def build_model(config: TrainConfig, num_classes: int = 10) -> GoogLeNet:
    """The small-stem (32x32) GoogLeNet with batch norm that the config describes, seeded."""
    seed_everything(config.seed)
    return GoogLeNet(num_classes, config.aux_logits, **CIFAR, width=config.width, block=config.block)


@functools.lru_cache(maxsize=16)
def matched_width(macs: int, block: str = "naive", iterations: int = 12) -> float:
    """The width at which the CIFAR GoogLeNet built from `block` modules costs about `macs` multiply-adds per 32x32
    image (costs.measure, eval mode), found by bisection; rounded to 3 decimals."""
    low, high = 0.01, 2.0
    for _ in range(iterations):
        mid = (low + high) / 2
        cost = measure(GoogLeNet(10, False, **CIFAR, width=mid, block=block), (3, 32, 32)).macs
        low, high = (mid, high) if cost < macs else (low, mid)
    return round((low + high) / 2, 3)


def amp_dtype(device: torch.device, amp: str = "auto") -> torch.dtype | None:
    """The autocast dtype: bf16 on GPUs that have it (compute capability >= 8), fp16 on older CUDA GPUs.

    "auto" keeps float32 on the CPU (a channels_last training step with bf16 autocast ran about 20x slower than
    float32 on the 2-core AVX2 CPU this was written on; CPUs with AMX differ) and on Apple's MPS (its autocast is
    young).
    """
    if amp == "none":
        return None
    if amp in ("bf16", "fp16"):
        return torch.bfloat16 if amp == "bf16" else torch.float16
    if amp != "auto":
        raise ValueError(f"amp must be 'auto', 'bf16', 'fp16' or 'none', got {amp!r}")
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.get_device_capability(device)[0] >= 8 else torch.float16
    return None


def one_cycle(step: int, total_steps: int, warmup: float = 0.2) -> float:
    """Learning-rate factor at `step` (0-based): linear rise to 1 at the last of the first `warmup` x total steps,
    then linear fall towards 0 at `total_steps`. Never 0 inside the run: the first and last steps get small factors.
    """
    warmup_steps = max(1, round(warmup * total_steps))
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return max(total_steps - step, 0) / (total_steps - warmup_steps + 1)


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.SGD:
    """SGD with Nesterov momentum; weight decay on weights (ndim > 1) only, none on batch norm and biases."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim > 1], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
    ]
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, nesterov=True)


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that wall-clock timings are true (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


@torch.no_grad()
def predict(model: nn.Module, data: ImageData, config: TrainConfig) -> torch.Tensor:
    """Logits (float32) for the test images, in eval mode (so without the aux heads)."""
    dtype = amp_dtype(data.device, config.amp)
    was_training = model.training
    model.eval()
    out = []
    for x, _ in batches(data.test_images, data.test_labels, config.eval_batch_size):
        with torch.autocast(data.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            out.append(model(x).float())
    model.train(was_training)
    return torch.cat(out)


def evaluate(model: nn.Module, data: ImageData, config: TrainConfig) -> tuple[float, float]:
    """Test loss (plain cross entropy) and test accuracy."""
    logits = predict(model, data, config)
    loss = F.cross_entropy(logits, data.test_labels).item()
    return loss, (logits.argmax(1) == data.test_labels).float().mean().item()


def grad_norm(module: nn.Module) -> torch.Tensor:
    """L2 norm of all gradients of `module`'s parameters together (a 0-d tensor, no host sync)."""
    return torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in module.parameters() if p.grad is not None]))


def new_history() -> dict:
    """Per-epoch lists of what `fit` measures, plus per-step gradient norms of the tracked modules."""
    keys = ("epoch", "step", "lr", "train_loss", "train_acc", "test_loss", "test_acc")
    timing = ("epoch_s", "images_per_s", "data_s", "compute_s")
    return {**{k: [] for k in keys + timing}, "grad_norm": {}}


def fit(
    model: nn.Module,
    data: ImageData,
    config: TrainConfig,
    *,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    on_epoch: Callable[[dict], None] | None = None,
    progress: bool = True,
) -> dict:
    """Train `model` on `data` (already on its device) as `config` says; returns the history.

    `checkpoint`: a file written after every epoch (rank 0); with `resume=True` and the file present, training
    continues from it. `on_epoch(history)` is called after each epoch (live plots). Under torchrun with a process
    group initialised, the model is wrapped in DistributedDataParallel and each rank trains on its shard.
    """
    device = data.device
    rank, world_size = _world()
    seed_everything(config.seed)
    torch.backends.cudnn.benchmark = True  # fixed input shapes: let cuDNN pick its fastest convolutions once
    raw = model.to(device, memory_format=torch.channels_last if config.channels_last else torch.preserve_format)
    optimizer = make_optimizer(raw, config)
    dtype = amp_dtype(device, config.amp)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    shuffle = torch.Generator(device).manual_seed(config.seed)  # the same order on every rank
    augment = torch.Generator(device).manual_seed(config.seed + 1 + rank)  # different crops per rank
    history, step, start_epoch = new_history(), 0, 0
    if resume and checkpoint is not None and Path(checkpoint).exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)  # RNG states must stay on the CPU
        raw.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        shuffle.set_state(state["shuffle_rng"])
        augment.set_state(state["augment_rng"])
        torch.set_rng_state(state["torch_rng"])
        if device.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        history, step, start_epoch = state["history"], state["step"], state["epoch"]
    model = raw
    if world_size > 1:
        model = nn.parallel.DistributedDataParallel(raw, device_ids=[device] if device.type == "cuda" else None)
    if config.compile:
        model = torch.compile(model)
    tracked = {name: raw.get_submodule(name) for name in config.track_grads}
    for name in tracked:
        history["grad_norm"].setdefault(name, [])

    spe = steps_per_epoch(len(data.train_labels), config.batch_size, world_size)
    total = config.total_steps(len(data.train_labels), world_size)
    bar = tqdm(total=total, initial=step, desc="training", unit="step", disable=not progress or rank != 0)
    for epoch in range(start_epoch, math.ceil(total / spe)):
        model.train()
        sums = torch.zeros(2, device=device)  # loss x images, correct predictions (summed on the device, no sync)
        norms, data_s, seen = [], 0.0, 0
        synchronize(device)
        t0 = time.perf_counter()
        loader = batches(
            data.train_images,
            data.train_labels,
            config.batch_size,
            train=True,
            generator=shuffle,
            augment_generator=augment,
            rank=rank,
            world_size=world_size,
        )
        while step < total:
            if config.time_split:
                synchronize(device)
            t_data = time.perf_counter()
            batch = next(loader, None)
            if batch is None:
                break
            x, y = batch
            if config.time_split:
                synchronize(device)
                data_s += time.perf_counter() - t_data
            lr = config.lr * one_cycle(step, total, config.warmup)
            for group in optimizer.param_groups:
                group["lr"] = lr
            with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
                out = model(x)
                loss = googlenet_loss(out, y, config.aux_weight, config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)  # true gradient norms under fp16 too
            if tracked:
                norms.append(torch.stack([grad_norm(m) for m in tracked.values()]))
            scaler.step(optimizer)
            scaler.update()
            logits = out.logits if isinstance(out, GoogLeNetOutputs) else out
            correct = (logits.argmax(1) == y).sum()
            sums += torch.stack([loss.detach().float() * len(y), correct.float()])
            seen += len(y)
            step += 1
            bar.update()
        synchronize(device)
        epoch_s = time.perf_counter() - t0
        if world_size > 1:
            dist.all_reduce(sums)
            seen *= world_size
        train_loss, correct = sums.tolist()
        test_loss, test_acc = evaluate(raw, data, config)
        for key, value in dict(
            epoch=epoch + 1,
            step=step,
            lr=lr,
            train_loss=train_loss / seen,
            train_acc=correct / seen,
            test_loss=test_loss,
            test_acc=test_acc,
            epoch_s=epoch_s,
            images_per_s=seen / epoch_s,
            data_s=data_s if config.time_split else None,
            compute_s=epoch_s - data_s if config.time_split else None,
        ).items():
            history[key].append(value)
        if norms:
            for name, values in zip(tracked, torch.stack(norms).T.tolist(), strict=True):
                history["grad_norm"][name] += values
        bar.set_postfix(epoch=epoch + 1, loss=f"{train_loss / seen:.3f}", test_acc=f"{test_acc:.3f}")
        if checkpoint is not None and rank == 0:
            save_checkpoint(checkpoint, raw, optimizer, scaler, config, history, step, epoch + 1, shuffle, augment)
        if on_epoch is not None:
            on_epoch(history)
    bar.close()
    return history


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    config: TrainConfig,
    history: dict,
    step: int,
    epoch: int,
    shuffle: torch.Generator,
    augment: torch.Generator,
) -> None:
    """Everything `fit(..., resume=True)` needs, as tensors and plain data (loadable with weights_only=True)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    state = dict(
        model=model.state_dict(),
        optimizer=optimizer.state_dict(),
        scaler=scaler.state_dict(),
        config=asdict(config),
        history=history,
        step=step,
        epoch=epoch,
        shuffle_rng=shuffle.get_state(),
        augment_rng=augment.get_state(),
        torch_rng=torch.get_rng_state(),
    )
    if shuffle.device.type == "cuda":  # dropout's random numbers on the GPU
        state["cuda_rng"] = torch.cuda.get_rng_state(shuffle.device)
    torch.save(state, Path(path))


def load_model(path: str | Path, device: torch.device | str = "cpu") -> tuple[GoogLeNet, TrainConfig]:
    """The trained model and its config from a checkpoint written by `fit` (loaded with weights_only=True)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    config = TrainConfig(**{**state["config"], "track_grads": tuple(state["config"]["track_grads"])})
    num_classes = state["model"]["fc.weight"].shape[0]
    model = build_model(config, num_classes)
    model.load_state_dict(state["model"])
    return model.to(device).eval(), config


@dataclass
class RunSummary:
    """What a finished run reports: saved as metrics.json by the CLI and the notebook."""

    config: dict
    data: str
    device: str
    params: int
    macs: int
    final_test_acc: float
    best_test_acc: float
    train_s: float
    images_per_s: float
    data_fraction: float | None  # share of training time spent producing batches
    history: dict = field(repr=False)


def summarize(config: TrainConfig, history: dict, data: ImageData, model: nn.Module) -> RunSummary:
    """A run's headline numbers (the model's MACs per 32x32 image from costs.measure, eval mode)."""
    cost = measure(model, (3, 32, 32))
    train_s = sum(history["epoch_s"])
    data_s = history["data_s"]
    return RunSummary(
        config=asdict(config),
        data=data.describe(),
        device=describe_device(data.device),
        params=cost.params,
        macs=cost.macs,
        final_test_acc=history["test_acc"][-1],
        best_test_acc=max(history["test_acc"]),
        train_s=train_s,
        images_per_s=sum(a * b for a, b in zip(history["images_per_s"], history["epoch_s"], strict=True)) / train_s,
        data_fraction=sum(data_s) / train_s if data_s and None not in data_s else None,
        history=history,
    )


def save_metrics(summary: RunSummary, folder: str | Path) -> Path:
    """Write `metrics.json` (summary and per-epoch history) into `folder`; returns its path."""
    path = Path(folder) / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(summary), indent=1))
    return path


def step_speed(
    model: nn.Module,
    device: torch.device,
    input_size: tuple[int, int, int] = (3, 32, 32),
    batch_size: int = 256,
    amp: str = "auto",
    steps: int = 10,
    warmup: int = 3,
) -> tuple[float, int | None]:
    """Training images/second (forward + backward + SGD step) on random input, and peak GPU memory in bytes.

    Train mode, channels_last as in `fit`; a tuple output (aux heads, ours or torchvision's) adds 0.3 x each
    auxiliary loss, so the same work is timed for any GoogLeNet.
    """
    model = model.to(device, memory_format=torch.channels_last).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    dtype = amp_dtype(device, amp)
    x = torch.randn(batch_size, *input_size, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch_size,), device=device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for i in range(warmup + steps):
        if i == warmup:
            synchronize(device)
            t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            out = model(x)
            logits, *aux = out if isinstance(out, tuple) else (out,)
            loss = F.cross_entropy(logits, y) + 0.3 * sum(F.cross_entropy(a, y) for a in aux)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    synchronize(device)
    seconds = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    return batch_size * steps / seconds, peak
