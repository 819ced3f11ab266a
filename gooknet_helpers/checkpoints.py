"""Checkpoints of `training.fit`: written atomically after every epoch, read back, checked, and resumed exactly.

A checkpoint holds tensors and plain data only (`torch.load(..., weights_only=True)` reads it): the model's weights
and its own configuration (`GoogLeNet.config`), the optimizer and gradient scaler, the TrainConfig as a dict, the
history so far, and every process's random states. `load_model` rebuilds the trained network from one.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import asdict
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from .config import FREE_ON_RESUME, TrainConfig
from .network import GoogLeNet
from .runtime import GooknetError, module_device, world

CHECKPOINT_KEYS = ("model", "model_config", "optimizer", "scaler", "config", "history", "step", "epoch")
START_FRESH = "To start fresh instead, choose another output folder (--out) or checkpoint path, or delete {path}."


class CheckpointError(GooknetError):
    """A checkpoint that cannot be used: unreadable, truncated, or written under other settings."""


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
    rank, world_size = world()
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
    _, world_size = world()
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
    rank, _ = world()
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
