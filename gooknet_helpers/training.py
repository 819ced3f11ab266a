"""Training GoogLeNet on CIFAR-10: one `fit` loop of epochs and steps, with evaluation after every epoch.

The recipe is `config.TrainConfig`; the images stay on the device as uint8 and are augmented there (see `data.py`).
On a GPU the training steps never make the CPU wait for it: losses, accuracies, gradient norms and timings stay
on the device and are read once per epoch (`end_epoch`). Ctrl-C (or a notebook's stop button) stops cleanly
after the current step (`stopping.py`); checkpoints are written atomically after every epoch and resume exactly
(`checkpoints.py`).
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .checkpoints import data_record, restore_checkpoint, save_checkpoint
from .config import TrainConfig, amp_dtype, make_optimizer, one_cycle, tracked_modules
from .data import ImageData, batches, steps_per_epoch
from .files import RunLock
from .network import GoogLeNetOutputs, googlenet_loss
from .runtime import GooknetError, seed_everything, synchronize, world
from .stopping import StopRequest, stopped_message
from .timing import DataTimer


class BatchSizeError(GooknetError):
    """A batch larger than a process's share of the training set."""


class OutOfMemoryError(GooknetError, torch.OutOfMemoryError):
    """The device ran out of memory; the message names the batch size to lower (still a torch.OutOfMemoryError)."""


class DivergedError(GooknetError):
    """Training diverged: the weights are no longer finite, or the loss was NaN or infinite at every step of an
    epoch. Raised at the epoch's end, before its checkpoint would be written, so the last good checkpoint stays."""


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


def input_format(config: TrainConfig) -> torch.memory_format:
    """The batches' memory order: channels_last (NHWC) where the config says so, else plain NCHW."""
    return torch.channels_last if config.channels_last else torch.contiguous_format


@torch.no_grad()
def predict(model: nn.Module, data: ImageData, config: TrainConfig) -> torch.Tensor:
    """Logits (float32) for the test images, in eval mode (so without the aux heads)."""
    dtype = amp_dtype(data.device, config.amp)
    was_training = model.training
    model.eval()
    out, failed = [], None
    try:
        for x, _ in batches(
            data.test_images, data.test_labels, config.eval_batch_size, memory_format=input_format(config)
        ):
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
    """One SGD step on the batch (x, y). Returns [summed loss, correct predictions] of the main head, 1 if the
    optimised loss was finite (else 0), and the tracked modules' gradient norms, as device tensors: nothing here waits
    for the GPU. (Under fp16 the gradient scaler skips a step whose gradients overflow; `end_epoch` counts the
    finite losses, so a run whose loss stays NaN stops, see `check_diverged`.)"""
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
    return torch.stack([main_loss, (logits.argmax(1) == y).sum().float(), loss.detach().isfinite().float()]), norms


@dataclass
class EpochRun:
    """What `train_epoch` did: counts on the host, sums and norms still on the device."""

    step: int  # global steps done after it
    sums: torch.Tensor  # [summed main-head loss, correct predictions, steps with a finite loss]
    timer: DataTimer
    t0: float = field(default_factory=time.perf_counter)  # when it started
    steps: int = 0  # steps done in it
    seen: int = 0  # images trained on by this process
    norms: list[torch.Tensor] = field(default_factory=list)  # one tensor of tracked gradient norms per step
    lr: float = 0.0  # of the last step
    stopped: bool = False  # ended by a stop request before the epoch's last batch (set by `fit`)
    nonfinite_steps: int = 0  # steps whose loss was NaN or infinite, over all ranks (set by `end_epoch`)
    finite_weights: bool = True  # (set by `end_epoch`)


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
    run = EpochRun(step, sums=torch.zeros(3, device=device), timer=DataTimer(device, config.time_split))
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

    Under DDP the training sums are added over the ranks. An epoch cut short (by a stop request, or by max_steps)
    gets a fractional number: 5 of its 20 steps are epoch 0.25.
    """
    synchronize(data.device)
    epoch_s = time.perf_counter() - run.t0
    data_s = run.timer.seconds()
    sums, seen, ranks = run.sums, run.seen, 1
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(sums)
        ranks = dist.get_world_size()
        seen *= ranks
    train_loss, correct, finite_steps = sums.tolist()
    run.nonfinite_steps = run.steps * ranks - round(finite_steps)
    run.finite_weights = bool(
        torch.stack(torch._foreach_norm([p.detach() for p in model.parameters()])).isfinite().all()
    )
    test_loss, test_acc = evaluate(model, data, config)
    row = dict(
        epoch=epoch + 1 if run.steps == spe else round(epoch + run.steps / spe, 2),
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


@dataclass
class TrainingState:
    """What a run trains with and how far it has come: made by `start`, advanced an epoch at a time by `run_epoch`."""

    raw: nn.Module  # the model itself: checkpoints and evaluation use it
    model: nn.Module  # what the steps call: `raw`, wrapped in DistributedDataParallel and/or compiled
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    shuffle: torch.Generator  # the order of the batches: the same on every rank
    augment: torch.Generator  # crops and flips: different on every rank
    tracked: list[nn.Module]  # the modules whose gradient norms are logged
    history: dict
    step: int = 0  # optimizer steps done
    epoch: int = 0  # epochs completed: the next one to train
    saved_epoch: int = 0  # the epoch the checkpoint file holds (0: none written)


def start(
    model: nn.Module,
    device: torch.device,
    config: TrainConfig,
    resume_from: str | Path | None,
    data: dict | None = None,
) -> TrainingState:
    """The model on `device` and everything that trains it, seeded; restored from the checkpoint `resume_from` where
    that file exists (and was trained on `data`, a `data_record`, where it records its data); the model wrapped in
    DistributedDataParallel under torchrun and compiled if the config says."""
    rank, world_size = world()
    seed_everything(config.seed + rank)  # dropout: different draws on every rank
    torch.backends.cudnn.benchmark = True  # fixed input shapes: let cuDNN pick its fastest convolutions once
    raw = model.to(device, memory_format=torch.channels_last if config.channels_last else torch.preserve_format)
    optimizer = make_optimizer(raw, config)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype(device, config.amp) == torch.float16)
    shuffle = torch.Generator(device).manual_seed(config.seed)  # the same order on every rank
    augment = torch.Generator(device).manual_seed(config.seed + 1 + rank)  # different crops per rank
    tracked = tracked_modules(raw, config.track_grads)  # ConfigError for a name the model lacks
    state = TrainingState(raw, raw, optimizer, scaler, shuffle, augment, tracked, new_history())
    if resume_from is not None and Path(resume_from).exists():
        state.history, state.step, state.epoch = restore_checkpoint(
            resume_from, raw, optimizer, scaler, config, shuffle, augment, data
        )
    if world_size > 1:
        state.model = nn.parallel.DistributedDataParallel(raw, device_ids=[device] if device.type == "cuda" else None)
    if config.compile:
        state.model = torch.compile(state.model)
    for name in config.track_grads:
        state.history["grad_norm"].setdefault(name, [])
    state.history["interrupted"], state.saved_epoch = False, state.epoch
    return state


def check_diverged(run: EpochRun, state: TrainingState, checkpoint: str | Path | None) -> None:
    """DivergedError, in one line, where the epoch left non-finite weights or had a NaN or infinite loss at every
    step. Its numbers come from `end_epoch`, which reads them where the loop waits for the device anyway: the steps
    only add a finite-loss flag to the sums they keep on the device."""
    steps = run.steps * world()[1]
    if run.finite_weights and run.nonfinite_steps < steps:
        return
    what = "the weights are no longer finite numbers" if not run.finite_weights else ""
    what = what or f"the loss was NaN or infinite at every one of its {steps:,} steps"
    if checkpoint is None:
        kept = "No checkpoint was set."
    elif state.saved_epoch == 0:
        kept = f"{checkpoint} was not written (no epoch ended well)."
    else:
        kept = f"{checkpoint} keeps epoch {state.saved_epoch}, the last good one."
    raise DivergedError(
        f"Training diverged in epoch {state.epoch + 1} (by step {run.step:,}): {what}. {kept} Try a lower learning "
        "rate (lr in TrainConfig, --lr on the command line), or amp='none' (--amp none) to rule out mixed precision."
    )


def run_epoch(
    state: TrainingState,
    data: ImageData,
    config: TrainConfig,
    total: int,
    stop: StopRequest,
    bar: tqdm,
    checkpoint: str | Path | None,
) -> EpochRun:
    """Train epoch `state.epoch` until its batches run out, `total` steps are done or a stop is requested; record
    it in the history; if it completed, count it and write the checkpoint."""
    rank, world_size = world()
    spe = steps_per_epoch(len(data.train_labels), config.batch_size, world_size)
    loader = batches(
        data.train_images,
        data.train_labels,
        config.batch_size,
        train=True,
        generator=state.shuffle,
        augment_generator=state.augment,
        rank=rank,
        world_size=world_size,
        memory_format=input_format(config),
    )
    run = train_epoch(
        state.model, state.optimizer, state.scaler, loader, config, state.step, total, state.tracked, stop, bar
    )
    state.step, run.stopped = run.step, run.step < min(total, (state.epoch + 1) * spe)  # cut short by a stop?
    if run.steps:
        end_epoch(state.history, run, state.raw, data, config, state.epoch, spe)
        check_diverged(run, state, checkpoint)  # before the checkpoint: the last good one stays
        last = {k: state.history[k][-1] for k in ("epoch", "train_loss", "test_acc")}
        bar.set_postfix(epoch=last["epoch"], loss=f"{last['train_loss']:.3f}", test_acc=f"{last['test_acc']:.3f}")
    if not run.stopped:
        state.epoch += 1
        if checkpoint is not None:
            args = (state.history, state.step, state.epoch, state.shuffle, state.augment)
            save_checkpoint(checkpoint, state.raw, state.optimizer, state.scaler, config, *args, data=data_record(data))
            state.saved_epoch = state.epoch
    return run


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

    One run at a time writes a checkpoint: another run (another notebook, another process) on the same checkpoint
    path raises OutputInUseError at once (`files.RunLock`). Resuming from a checkpoint trained on other data (other
    classes or image counts) raises CheckpointError. A run whose loss stops being finite raises DivergedError.
    """
    rank, world_size = world()
    spe = checked_steps_per_epoch(len(data.train_labels), config.batch_size, world_size)
    with RunLock(checkpoint) if checkpoint is not None and rank == 0 else contextlib.nullcontext():
        return _fit(model, data, config, spe, checkpoint, resume, on_epoch, progress)


def _fit(
    model: nn.Module,
    data: ImageData,
    config: TrainConfig,
    spe: int,
    checkpoint: str | Path | None,
    resume: bool,
    on_epoch: Callable[[dict], None] | None,
    progress: bool,
) -> dict:
    """`fit`'s loop, run while it holds the checkpoint's lock."""
    rank, world_size = world()
    state = start(model, data.device, config, checkpoint if resume else None, data_record(data))
    total = config.total_steps(len(data.train_labels), world_size)
    bar = tqdm(total=total, initial=state.step, desc="training", unit="step", disable=not progress or rank != 0)
    with StopRequest(clean=world_size == 1) as stop:
        try:
            while state.epoch < math.ceil(total / spe):
                run = run_epoch(state, data, config, total, stop, bar, checkpoint)
                if on_epoch is not None and run.steps:
                    on_epoch(state.history)
                if run.stopped:
                    break
        except KeyboardInterrupt:  # at an epoch's end: from on_epoch, or a second Ctrl-C
            if not stop.clean:
                raise
            stop.requested = True
    bar.close()
    if stop.requested and state.step < total:
        state.history["interrupted"] = True
        print(
            stopped_message(state.history, state.step, total, checkpoint, state.saved_epoch),
            file=sys.stderr,
            flush=True,
        )
    return state.history
