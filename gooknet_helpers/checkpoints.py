"""Checkpoints of `training.fit`: written atomically after every epoch, read back, checked, and resumed exactly.

A checkpoint holds tensors and plain data only (`torch.load(..., weights_only=True)` reads it): the model's weights
and its own configuration (`GoogLeNet.config`), the optimizer and gradient scaler, the TrainConfig as a dict, the
history so far, every process's random states, a record of the data it was trained on (class names and image
counts), and a SHA-256 checksum of all its tensors, so that a damaged file is refused rather than trained on.
`load_model` rebuilds the trained network from one. Files written before the data record or the checksum existed
are read as before (nothing to compare, nothing to verify).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import asdict
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from .config import FREE_ON_RESUME, TrainConfig
from .data import ImageData
from .files import atomic_write, safe_torch_load
from .network import GoogLeNet
from .runtime import GooknetError, module_device, world

CHECKPOINT_KEYS = ("model", "model_config", "optimizer", "scaler", "config", "history", "step", "epoch")
START_FRESH = "To start fresh instead, choose another output folder (--out) or checkpoint path, or delete {path}."


class CheckpointError(GooknetError):
    """A checkpoint that cannot be used: unreadable, truncated, damaged, or written under other settings or data."""


CHECKSUM = "tensors_sha256"  # the key of the checksum in a checkpoint


def tensors_sha256(state: object) -> str:
    """SHA-256 over every tensor in `state` (nested dicts, lists and tuples), in order, with the keys that lead to it
    and its dtype and shape: the same before `torch.save` and after `torch.load`, different after any flipped byte."""
    digest = hashlib.sha256()

    def walk(obj: object) -> None:
        if isinstance(obj, torch.Tensor):
            t = obj.detach().cpu().contiguous()
            digest.update(f"{t.dtype}{tuple(t.shape)}".encode())
            digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
        elif isinstance(obj, dict):
            for key, value in obj.items():
                if key != CHECKSUM:
                    digest.update(repr(key).encode())
                    walk(value)
        elif isinstance(obj, (list, tuple)):
            for value in obj:
                walk(value)

    walk(state)
    return digest.hexdigest()


def data_record(data: ImageData) -> dict:
    """What a checkpoint records of its data: class names and image counts (and where from, for messages)."""
    return dict(
        classes=list(data.classes),
        train=len(data.train_labels),
        test=len(data.test_labels),
        source=data.source,
        location=data.location,
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
    data: dict | None = None,
) -> None:
    """Everything `fit(..., resume=True)` needs, as tensors and plain data (loadable with weights_only=True).

    The model's own configuration (`GoogLeNet.config`) is stored too, so `load_model` rebuilds exactly this network;
    so are `data` (`data_record`: what it was trained on) and the checksum of every tensor (`tensors_sha256`).
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
        if data is not None:
            state["data"] = data
        state[CHECKSUM] = tensors_sha256(state)
        atomic_save(state, path)
    if world_size > 1:
        dist.barrier()  # every rank returns once the file is complete


def atomic_save(obj: object, path: str | Path) -> None:
    """torch.save to a temporary file with a unique name in the same folder, flushed to disk, then renamed over
    `path` (`files.atomic_write`): a crash, Ctrl-C or full disk mid-write leaves the previous file intact, and two
    writers never share a temporary file. A full disk raises WriteError (one line; still an OSError)."""
    atomic_write(
        path,
        lambda file: torch.save(obj, file),
        hint="Free some disk space, then run again (--resume continues from the last checkpoint).",
    )


def read_checkpoint(path: str | Path) -> dict:
    """A checkpoint written by `fit` (torch.load with weights_only=True), or CheckpointError naming the file and
    what to do when it is missing, truncated, damaged (its tensors no longer match their checksum), or not such a
    checkpoint."""
    state = safe_torch_load(path, "checkpoint", START_FRESH.format(path=path), CheckpointError)
    missing = [key for key in CHECKPOINT_KEYS if key not in state] if isinstance(state, dict) else CHECKPOINT_KEYS
    if missing:
        raise CheckpointError(
            f"{path} is not a checkpoint written by fit in this version of gooknet_helpers (it lacks "
            f"{', '.join(missing)}). " + START_FRESH.format(path=path)
        )
    if CHECKSUM in state and state[CHECKSUM] != tensors_sha256(state):  # older checkpoints have none: nothing to check
        raise CheckpointError(
            f"{path} is damaged: its tensors no longer match the checksum written with them (a changed byte, on disk "
            "or in a copy). " + START_FRESH.format(path=path)
        )
    return state


def check_same_data(state: dict, data: dict | None, path: str | Path) -> None:
    """CheckpointError where the checkpoint records other data (class names, image counts) than `data`
    (`data_record`); a checkpoint without a record (written before it existed) is not refused."""
    saved = state.get("data")
    if not saved or not data:
        return
    differ = []
    if list(saved.get("classes", [])) != list(data["classes"]):
        differ.append(
            f"classes {', '.join(saved.get('classes', []))} in the checkpoint, {', '.join(data['classes'])} now"
        )
    for split in ("train", "test"):
        if saved.get(split) != data[split]:
            differ.append(f"{saved.get(split)} {split} images in the checkpoint, {data[split]:,} now")
    if differ:
        raise CheckpointError(
            f"{path} was trained on other data ({saved.get('location', '?')}, now {data['location']}): "
            f"{'; '.join(differ)}. Resume with the data it was trained on (--data). " + START_FRESH.format(path=path)
        )


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
    data: dict | None = None,
) -> tuple[dict, int, int]:
    """Load a `save_checkpoint` file into the training objects; returns (history, step, epoch).

    Each rank restores its own random states. Raises CheckpointError if the file cannot be read, is damaged, or was
    written under other settings or for other `data` (`data_record`).
    """
    rank, _ = world()
    state = read_checkpoint(path)
    check_resumable(state, config, model, path)
    check_same_data(state, data, path)
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
    if saved.get("max_steps") == 0:  # written before 0 was refused, when it meant no limit
        saved["max_steps"] = None
    try:
        config = TrainConfig(**{**saved, "track_grads": tuple(saved.get("track_grads", ()))})
    except GooknetError as error:
        raise CheckpointError(f"{path} holds settings this version refuses: {error}") from None
    try:
        model = GoogLeNet(**state["model_config"])
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError, ValueError) as error:
        said = str(error).strip().split("\n")[0][:200]
        raise CheckpointError(f"{path} does not hold a GoogLeNet this version can build ({said}).") from None
    return model.to(device).eval(), config
