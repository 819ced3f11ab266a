"""Training GoogLeNet on CIFAR-10: a config as plain data, one `fit` loop, evaluation, checkpoints.

The recipe: SGD with Nesterov momentum, a one-cycle learning rate (linear warm-up, linear decay), label
smoothing, weight decay on weights only (not on batch norm or biases), mixed precision (bf16 where the GPU
has it, fp16 with a gradient scaler otherwise), channels_last memory order, and optionally torch.compile.
The images stay on the device as uint8 and are augmented there (see `data.py`).

On a GPU the training steps never make the CPU wait for it: losses, accuracies, gradient norms and timings stay
on the device and are read once per epoch (`end_epoch`). Ctrl-C (or a notebook's stop button) stops cleanly
after the current step; checkpoints are written atomically after every epoch and resume exactly.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .costs import measure
from .data import ImageData, batches, steps_per_epoch
from .network import CIFAR, GoogLeNet, GoogLeNetOutputs, googlenet_loss
from .runtime import GooknetError, describe_device, module_device, seed_everything


class CheckpointError(GooknetError):
    """A checkpoint that cannot be used: unreadable, truncated, or written under other settings."""


class BatchSizeError(GooknetError):
    """A batch larger than a process's share of the training set."""


class OutOfMemoryError(GooknetError, torch.OutOfMemoryError):
    """The device ran out of memory; the message names the batch size to lower (still a torch.OutOfMemoryError)."""


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved with checkpoints and metrics.

    The comment after each field is its help text on the command line (`python -m gooknet_helpers.train --help`).
    """

    epochs: int = 24  # passes over the training set
    batch_size: int = 512  # images per step (per process under torchrun)
    lr: float = 0.4  # peak learning rate of the one-cycle schedule (0.1 per 128 images)
    warmup: float = 0.2  # fraction of the steps spent rising to the peak
    momentum: float = 0.9  # Nesterov momentum of SGD
    weight_decay: float = 5e-4  # L2 penalty on conv and linear weights (none on batch norm and biases)
    label_smoothing: float = 0.1  # smoothing of the training targets (the logged losses are plain)
    width: float = 1.0  # channel multiplier of GoogLeNet
    channel_multiple: int = 8  # round channel counts to multiples of 8 (tensor cores); 1 = the exact scaled counts
    block: Literal["inception", "naive"] = "inception"  # Figure 2b modules, or naive ones (2a with pool projection)
    aux_logits: bool = False  # train with the two auxiliary heads
    aux_weight: float = 0.3  # the paper's weight of each auxiliary loss
    amp: Literal["auto", "bf16", "fp16", "none"] = "auto"  # mixed precision: auto = bf16/fp16 on CUDA, none elsewhere
    channels_last: bool = True  # NHWC memory order, which convolutions on GPUs prefer
    compile: bool = False  # torch.compile the model
    max_steps: int | None = None  # stop early (smoke runs); the schedule spans min(max_steps, all steps)
    time_split: bool = True  # measure data vs compute time (CUDA events read at epoch ends: no per-step sync)
    track_grads: tuple[str, ...] = ("conv1", "inception3a", "inception4a")  # modules whose gradient norm is logged
    seed: int = 0  # seeds weights, shuffling, augmentation and dropout
    eval_batch_size: int = 1000  # images per evaluation batch

    def total_steps(self, num_train: int, world_size: int = 1) -> int:
        steps = self.epochs * steps_per_epoch(num_train, self.batch_size, world_size)
        return min(steps, self.max_steps) if self.max_steps else steps


# Settings that may change when a run resumes: they change how it is run or logged, not what it computes.
FREE_ON_RESUME = ("channels_last", "compile", "time_split", "track_grads", "eval_batch_size")
CHECKPOINT_KEYS = ("model", "model_config", "optimizer", "scaler", "config", "history", "step", "epoch")


def build_model(config: TrainConfig, num_classes: int = 10) -> GoogLeNet:
    """The small-stem (32x32) GoogLeNet with batch norm that the config describes, seeded."""
    seed_everything(config.seed)
    return GoogLeNet(
        num_classes,
        config.aux_logits,
        **CIFAR,
        width=config.width,
        block=config.block,
        channel_multiple=config.channel_multiple,
    )


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
    """SGD with Nesterov momentum; weight decay on weights (ndim > 1) only, none on batch norm and biases.

    On CUDA the fused SGD updates every parameter in one kernel; elsewhere PyTorch's default (foreach) applies.
    Parameters are taken in the order of their names: a checkpoint stores the optimizer's state by position, so it
    must not depend on the order in which the model registers its modules.
    """
    params = [p for _, p in sorted(model.named_parameters()) if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim > 1], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
    ]
    fused = True if module_device(model).type == "cuda" else None
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, nesterov=True, fused=fused)


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


def out_of_memory(error: BaseException, setting: str, batch_size: int) -> OutOfMemoryError:
    """The clear message for an out-of-memory error at `setting` (batch_size or eval_batch_size) = `batch_size`."""
    smaller = max(1, batch_size // 2)
    also_lr = " (and lr in proportion)" if setting == "batch_size" else ""
    said = str(error).strip().split("\n")[0].split(". ")[0]
    return OutOfMemoryError(
        f"Out of device memory with {setting}={batch_size} ({said}). Use a smaller batch: {setting}={smaller} in "
        f"TrainConfig, or --{setting.replace('_', '-')} {smaller} on the command line{also_lr}. Closing other "
        "notebooks that hold GPU memory helps, and so does setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True "
        "before starting Python (less fragmentation)."
    )


@torch.no_grad()
def predict(model: nn.Module, data: ImageData, config: TrainConfig) -> torch.Tensor:
    """Logits (float32) for the test images, in eval mode (so without the aux heads)."""
    dtype = amp_dtype(data.device, config.amp)
    was_training = model.training
    model.eval()
    out, failed = [], None
    try:
        for x, _ in batches(data.test_images, data.test_labels, config.eval_batch_size):
            with torch.autocast(data.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
                out.append(model(x).float())
    except torch.OutOfMemoryError as error:
        failed = out_of_memory(error, "eval_batch_size", config.eval_batch_size)
    finally:
        model.train(was_training)
    if failed is not None:
        raise failed  # outside the except block, so the failed batch's tensors are already freed
    return torch.cat(out)


def evaluate(model: nn.Module, data: ImageData, config: TrainConfig) -> tuple[float, float]:
    """Test loss (plain cross entropy) and test accuracy."""
    logits = predict(model, data, config)
    loss = F.cross_entropy(logits, data.test_labels).item()
    return loss, (logits.argmax(1) == data.test_labels).float().mean().item()


def grad_norms(modules: list[nn.Module]) -> torch.Tensor:
    """The L2 norm of each module's gradients as one 1-d tensor: one fused norm call for all of them, no host sync."""
    grads = [[p.grad for p in m.parameters() if p.grad is not None] for m in modules]
    norms = torch.stack(torch._foreach_norm([g for module_grads in grads for g in module_grads]))
    return torch.stack([part.square().sum() for part in norms.split([len(g) for g in grads])]).sqrt()


def new_history() -> dict:
    """Per-epoch lists of what `fit` measures, per-step gradient norms of the tracked modules, and whether the run
    was interrupted (then the last row may be a part of an epoch: epoch 2.4 = 40% into the third)."""
    keys = ("epoch", "step", "lr", "train_loss", "train_acc", "test_loss", "test_acc")
    timing = ("epoch_s", "images_per_s", "data_s", "compute_s")
    return {**{k: [] for k in keys + timing}, "grad_norm": {}, "interrupted": False}


class StopRequest:
    """Ctrl-C (or a notebook's stop button) as a request: `fit` finishes the current step, then stops cleanly.

    While active, the first Ctrl-C sets `requested`; a second one raises KeyboardInterrupt as usual. The handler is
    installed only in the main thread, and only where Ctrl-C raises KeyboardInterrupt (a terminal, Jupyter), not
    where it is ignored. `clean=False` (several processes, which must stop at the same step) leaves Ctrl-C alone.
    """

    def __init__(self, clean: bool = True) -> None:
        self.clean, self.requested, self._previous = clean, False, None

    def __enter__(self) -> StopRequest:
        main = threading.current_thread() is threading.main_thread()
        if self.clean and main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._request)
        return self

    def _request(self, signum: int, frame: object) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, self._previous)  # a second Ctrl-C interrupts at once
        print("\nCtrl-C: stopping after this step (press it again to stop at once)", file=sys.stderr, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


class DataTimer:
    """Seconds spent producing batches in an epoch, without making the CPU wait for a GPU at every step.

    CUDA: events recorded around each data step, read once at the epoch's end. CPU: the wall clock (the work is
    done when a call returns). MPS: the wall clock, synchronising around each data step.
    """

    def __init__(self, device: torch.device, enabled: bool = True) -> None:
        self.device, self.enabled = device, enabled
        self.events: list[tuple[torch.cuda.Event, torch.cuda.Event]] = []
        self.wall_s = 0.0

    def start(self) -> None:
        if self.enabled and self.device.type == "cuda":
            self._start = torch.cuda.Event(enable_timing=True)
            self._start.record()
        elif self.enabled:
            synchronize(self.device)
            self._t0 = time.perf_counter()

    def stop(self) -> None:
        if self.enabled and self.device.type == "cuda":
            end = torch.cuda.Event(enable_timing=True)
            end.record()
            self.events.append((self._start, end))
        elif self.enabled:
            synchronize(self.device)
            self.wall_s += time.perf_counter() - self._t0

    def seconds(self) -> float | None:
        """The data seconds so far (None when disabled); on CUDA, call after `synchronize`."""
        if not self.enabled:
            return None
        return self.wall_s + sum(a.elapsed_time(b) for a, b in self.events) / 1000


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    x: torch.Tensor,
    y: torch.Tensor,
    lr: float,
    config: TrainConfig,
    tracked: list[nn.Module],
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One SGD step on the batch (x, y). Returns [summed loss, correct predictions] of the main head and the tracked
    modules' gradient norms, as device tensors: nothing here waits for the GPU."""
    dtype = amp_dtype(x.device, config.amp)
    for group in optimizer.param_groups:
        group["lr"] = lr
    with torch.autocast(x.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
        out = model(x)
        loss = googlenet_loss(out, y, config.aux_weight, config.label_smoothing)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)  # true gradient norms under fp16 too
    norms = grad_norms(tracked) if tracked else None
    scaler.step(optimizer)
    scaler.update()
    logits = (out.logits if isinstance(out, GoogLeNetOutputs) else out).detach().float()
    # Logged loss: plain cross entropy of the main head, the quantity `evaluate` reports for the test set
    # (the optimised loss adds label smoothing and the auxiliary losses).
    main_loss = F.cross_entropy(logits, y, reduction="sum")
    return torch.stack([main_loss, (logits.argmax(1) == y).sum().float()]), norms


@dataclass
class EpochRun:
    """What `train_epoch` did: counts on the host, sums and norms still on the device."""

    step: int  # global steps done after it
    sums: torch.Tensor  # [summed main-head loss, correct predictions]
    timer: DataTimer
    t0: float = field(default_factory=time.perf_counter)  # when it started
    steps: int = 0  # steps done in it
    seen: int = 0  # images trained on by this process
    norms: list[torch.Tensor] = field(default_factory=list)  # one tensor of tracked gradient norms per step
    lr: float = 0.0  # of the last step
    stopped: bool = False  # ended by a stop request before the epoch's last batch (set by `fit`)


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    loader: Iterator[tuple[torch.Tensor, torch.Tensor]],
    config: TrainConfig,
    step: int,
    total: int,
    tracked: list[nn.Module],
    stop: StopRequest,
    bar: tqdm,
) -> EpochRun:
    """Train on `loader`'s batches until they run out, `total` steps are done, or a stop is requested.

    No host-device sync: `end_epoch` reads the numbers. Ctrl-C lets the current step finish; a KeyboardInterrupt
    raised inside a step (a second Ctrl-C, or one from a hook) abandons that step.
    """
    device = next(model.parameters()).device
    run = EpochRun(step, sums=torch.zeros(2, device=device), timer=DataTimer(device, config.time_split))
    failed = None
    try:
        while run.step < total and not stop.requested:
            run.timer.start()
            batch = next(loader, None)
            run.timer.stop()
            if batch is None:
                break
            run.lr = config.lr * one_cycle(run.step, total, config.warmup)
            sums, norms = train_step(model, optimizer, scaler, *batch, run.lr, config, tracked)
            run.sums += sums
            if norms is not None:
                run.norms.append(norms)
            run.step, run.steps, run.seen = run.step + 1, run.steps + 1, run.seen + len(batch[1])
            bar.update()
    except KeyboardInterrupt:
        if not stop.clean:
            raise
        stop.requested = True
        optimizer.zero_grad(set_to_none=True)
    except torch.OutOfMemoryError as error:
        failed = out_of_memory(error, "batch_size", config.batch_size)
    if failed is not None:
        optimizer.zero_grad(set_to_none=True)
        raise failed  # outside the except block, so the failed step's tensors are already freed
    return run


def end_epoch(
    history: dict, run: EpochRun, model: nn.Module, data: ImageData, config: TrainConfig, epoch: int, spe: int
) -> None:
    """Wait for the GPU, evaluate, and append the epoch's row to `history` (the only syncs of an epoch).

    Under DDP the training sums are added over the ranks. An epoch stopped part-way gets a fractional number.
    """
    synchronize(data.device)
    epoch_s = time.perf_counter() - run.t0
    data_s = run.timer.seconds()
    sums, seen = run.sums, run.seen
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(sums)
        seen *= dist.get_world_size()
    train_loss, correct = sums.tolist()
    test_loss, test_acc = evaluate(model, data, config)
    row = dict(
        epoch=round(epoch + run.steps / spe, 2) if run.stopped else epoch + 1,
        step=run.step,
        lr=run.lr,
        train_loss=train_loss / seen,
        train_acc=correct / seen,
        test_loss=test_loss,
        test_acc=test_acc,
        epoch_s=epoch_s,
        images_per_s=seen / epoch_s,
        data_s=data_s,
        compute_s=epoch_s - data_s if data_s is not None else None,
    )
    for key, value in row.items():
        history[key].append(value)
    if run.norms:
        for name, values in zip(config.track_grads, torch.stack(run.norms).T.tolist(), strict=True):
            history["grad_norm"][name] += values


def checked_steps_per_epoch(num_train: int, batch_size: int, world_size: int) -> int:
    """Steps per epoch, or BatchSizeError where a process's share of the training set is smaller than one batch."""
    spe = steps_per_epoch(num_train, batch_size, world_size)
    if spe == 0:
        raise BatchSizeError(
            f"A batch of {batch_size} is more than the {num_train // world_size:,} training images each of the "
            f"{world_size} process(es) gets: use a smaller batch_size (--batch-size, per process) or fewer processes."
        )
    return spe


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

    `checkpoint`: a file written atomically after every epoch (rank 0); with `resume=True` and the file present,
    training continues from it exactly as if it had never stopped (a file written under other settings raises
    CheckpointError, naming them). `on_epoch(history)` is called after each epoch (live plots).

    Ctrl-C, or a notebook's stop button, stops cleanly: the current step finishes, the model is evaluated, the part
    of the epoch done is recorded (as epoch 2.4, say), one line says where training stopped and how to continue,
    and the history comes back with history["interrupted"] True. The model keeps that step's weights; the
    checkpoint holds the last completed epoch, which `resume=True` continues from. Running out of device memory
    raises OutOfMemoryError (a torch.OutOfMemoryError) naming the batch size to lower.

    Under torchrun with a process group initialised, the model is wrapped in DistributedDataParallel and each rank
    trains on its shard; there Ctrl-C ends every process, and `resume=True` continues from the last epoch.
    """
    device = data.device
    rank, world_size = _world()
    spe = checked_steps_per_epoch(len(data.train_labels), config.batch_size, world_size)
    seed_everything(config.seed + rank)  # dropout: different draws on every rank
    torch.backends.cudnn.benchmark = True  # fixed input shapes: let cuDNN pick its fastest convolutions once
    raw = model.to(device, memory_format=torch.channels_last if config.channels_last else torch.preserve_format)
    optimizer = make_optimizer(raw, config)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype(device, config.amp) == torch.float16)
    shuffle = torch.Generator(device).manual_seed(config.seed)  # the same order on every rank
    augment = torch.Generator(device).manual_seed(config.seed + 1 + rank)  # different crops per rank
    history, step, start_epoch = new_history(), 0, 0
    if resume and checkpoint is not None and Path(checkpoint).exists():
        history, step, start_epoch = restore_checkpoint(checkpoint, raw, optimizer, scaler, config, shuffle, augment)
    model = raw
    if world_size > 1:
        model = nn.parallel.DistributedDataParallel(raw, device_ids=[device] if device.type == "cuda" else None)
    if config.compile:
        model = torch.compile(model)
    tracked = [raw.get_submodule(name) for name in config.track_grads]
    for name in config.track_grads:
        history["grad_norm"].setdefault(name, [])
    history["interrupted"], saved_epoch = False, start_epoch

    total = config.total_steps(len(data.train_labels), world_size)
    bar = tqdm(total=total, initial=step, desc="training", unit="step", disable=not progress or rank != 0)
    with StopRequest(clean=world_size == 1) as stop:
        try:
            for epoch in range(start_epoch, math.ceil(total / spe)):
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
                run = train_epoch(model, optimizer, scaler, loader, config, step, total, tracked, stop, bar)
                step, run.stopped = run.step, run.step < min(total, (epoch + 1) * spe)  # cut short by a stop?
                if run.steps:
                    end_epoch(history, run, raw, data, config, epoch, spe)
                    last = {k: history[k][-1] for k in ("epoch", "train_loss", "test_acc")}
                    bar.set_postfix(
                        epoch=last["epoch"], loss=f"{last['train_loss']:.3f}", test_acc=f"{last['test_acc']:.3f}"
                    )
                if checkpoint is not None and not run.stopped:
                    save_checkpoint(
                        checkpoint, raw, optimizer, scaler, config, history, step, epoch + 1, shuffle, augment
                    )
                    saved_epoch = epoch + 1
                if on_epoch is not None and run.steps:
                    on_epoch(history)
                if run.stopped:
                    break
        except KeyboardInterrupt:  # at an epoch's end: from on_epoch, or a second Ctrl-C
            if not stop.clean:
                raise
            stop.requested = True
    bar.close()
    if stop.requested and step < total:
        history["interrupted"] = True
        print(stopped_message(history, step, total, checkpoint, saved_epoch), file=sys.stderr, flush=True)
    return history


def stopped_message(history: dict, step: int, total: int, checkpoint: str | Path | None, saved_epoch: int) -> str:
    """The one line `fit` prints when stopped: where, what the model and the checkpoint hold, how to continue."""
    where = f"Training stopped at step {step:,} of {total:,}"
    if history["epoch"]:
        where += f" (epoch {history['epoch'][-1]}, test accuracy {history['test_acc'][-1]:.2%})"
    if checkpoint is None:
        return f"{where}; the model keeps that step's weights. No checkpoint was set, so the run cannot be continued."
    if saved_epoch == 0:
        return f"{where}, before the first epoch ended: {checkpoint} was not written, so a new run starts from scratch."
    return (
        f"{where}; the model keeps that step's weights. {checkpoint} holds epoch {saved_epoch}: to continue, run "
        "again with resume=True (--resume on the command line)."
    )


def rng_states(augment: torch.Generator) -> dict:
    """This process's random states: its augmentation generator and dropout's (the CPU's, and the GPU's on CUDA)."""
    states = dict(augment_rng=augment.get_state(), torch_rng=torch.get_rng_state())
    if augment.device.type == "cuda":
        states["cuda_rng"] = torch.cuda.get_rng_state(augment.device)
    return states


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
    """Everything `fit(..., resume=True)` needs, as tensors and plain data (loadable with weights_only=True).

    The model's own configuration (`GoogLeNet.config`) is stored too, so `load_model` rebuilds exactly this network.
    Call it on every rank: each rank's random states are gathered (`ranks`, one dict per rank; rank 0's also at the
    top level, where checkpoints before per-rank states kept them); rank 0 writes the file atomically, and every
    rank returns once it is complete.
    """
    rank, world_size = _world()
    ranks = [rng_states(augment)]
    if world_size > 1:
        ranks = [None] * world_size
        dist.all_gather_object(ranks, rng_states(augment))
    if rank == 0:
        state = dict(
            model=model.state_dict(),
            model_config=model.config,
            optimizer=optimizer.state_dict(),
            scaler=scaler.state_dict(),
            config=asdict(config),
            history=history,
            step=step,
            epoch=epoch,
            shuffle_rng=shuffle.get_state(),
            device=shuffle.device.type,
            world_size=world_size,
            ranks=ranks,
            **ranks[0],
        )
        atomic_save(state, path)
    if world_size > 1:
        dist.barrier()  # every rank returns once the file is complete


def atomic_save(obj: object, path: str | Path) -> None:
    """torch.save to a temporary file in the same folder, flushed to disk, then renamed over `path`: a crash or
    Ctrl-C mid-write leaves the previous file intact (the rename is atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


START_FRESH = "To start fresh instead, choose another output folder (--out) or checkpoint path, or delete {path}."


def read_checkpoint(path: str | Path) -> dict:
    """A checkpoint written by `fit` (torch.load with weights_only=True), or CheckpointError naming the file and
    what to do when it is missing, truncated, corrupt, or not such a checkpoint."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"There is no checkpoint at {path}.") from None
    except Exception as error:  # truncated or corrupt files fail in the zip reader, the unpickler, or with EOFError
        said = str(error).strip().split("\n")[0][:200]
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({type(error).__name__}: {said}); it may be truncated or damaged. "
            + START_FRESH.format(path=path)
        ) from None
    missing = [key for key in CHECKPOINT_KEYS if key not in state] if isinstance(state, dict) else CHECKPOINT_KEYS
    if missing:
        raise CheckpointError(
            f"{path} is not a checkpoint written by fit in this version of gooknet_helpers (it lacks "
            f"{', '.join(missing)}). " + START_FRESH.format(path=path)
        )
    return state


def check_resumable(state: dict, config: TrainConfig, model: nn.Module, path: str | Path) -> None:
    """Raise CheckpointError naming every setting in which the checkpoint's run differs from this one (the
    FREE_ON_RESUME settings may differ)."""
    _, world_size = _world()
    now, saved = asdict(config), state["config"]
    differ = [(k, saved[k], v) for k, v in now.items() if k in saved and k not in FREE_ON_RESUME and saved[k] != v]
    differ += [(k, state["model_config"].get(k), v) for k, v in model.config.items() if k not in now]
    differ += [("processes", state.get("world_size", 1), world_size)]
    differ += [("device", state.get("device", module_device(model).type), module_device(model).type)]
    differ = [f"{name} {old!r} in the checkpoint, {new!r} now" for name, old, new in differ if old != new]
    if differ:
        raise CheckpointError(
            f"{path} was written by a run with other settings: {'; '.join(differ)}. Resume with the checkpoint's "
            "settings. " + START_FRESH.format(path=path)
        )


def restore_checkpoint(
    path: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    config: TrainConfig,
    shuffle: torch.Generator,
    augment: torch.Generator,
) -> tuple[dict, int, int]:
    """Load a `save_checkpoint` file into the training objects; returns (history, step, epoch).

    Each rank restores its own random states. Raises CheckpointError if the file cannot be read or was written
    under other settings.
    """
    rank, _ = _world()
    state = read_checkpoint(path)
    check_resumable(state, config, model, path)
    kernels = [group["fused"] for group in optimizer.param_groups]
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        shuffle.set_state(state["shuffle_rng"])
    except (RuntimeError, ValueError, KeyError) as error:
        said = str(error).strip().split("\n")[0][:200]
        raise CheckpointError(f"{path} does not fit this run ({said}). " + START_FRESH.format(path=path)) from None
    for group, fused in zip(optimizer.param_groups, kernels, strict=True):
        group["fused"] = fused  # this device's kernel choice, not the saving device's
    own = state["ranks"][rank] if "ranks" in state else state  # older checkpoints: one process's states, on top
    augment.set_state(own["augment_rng"])
    torch.set_rng_state(own["torch_rng"])
    if augment.device.type == "cuda" and "cuda_rng" in own:
        torch.cuda.set_rng_state(own["cuda_rng"], augment.device)
    return state["history"], state["step"], state["epoch"]


def load_model(path: str | Path, device: torch.device | str = "cpu") -> tuple[GoogLeNet, TrainConfig]:
    """The trained model (eval mode) and its config from a checkpoint written by `fit` (weights_only=True).

    The network is rebuilt from the configuration stored with it, not from today's presets. An unreadable or
    foreign file raises CheckpointError.
    """
    state = read_checkpoint(path)
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    saved = {k: v for k, v in state["config"].items() if k in names}
    config = TrainConfig(**{**saved, "track_grads": tuple(saved.get("track_grads", ()))})
    try:
        model = GoogLeNet(**state["model_config"])
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError, ValueError) as error:
        said = str(error).strip().split("\n")[0][:200]
        raise CheckpointError(f"{path} does not hold a GoogLeNet this version can build ({said}).") from None
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
