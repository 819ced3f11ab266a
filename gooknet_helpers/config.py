"""The training recipe as data: `TrainConfig`, and the model, optimizer, learning-rate schedule and precision it sets.

The recipe: SGD with Nesterov momentum, a one-cycle learning rate (linear warm-up, linear decay), label
smoothing, weight decay on weights only (not on batch norm or biases), mixed precision (bf16 where the GPU
has it, fp16 with a gradient scaler otherwise), channels_last memory order, and optionally torch.compile.
`training.fit` runs it.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from .costs import measure
from .data import steps_per_epoch
from .network import CIFAR, GoogLeNet
from .runtime import GooknetError, module_device, seed_everything


class ConfigError(GooknetError, ValueError):
    """A TrainConfig setting out of range: the message names the setting, its value and what is allowed."""


def _whole(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _finite(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


MAX_SEED = 2**31 - 1
# What each TrainConfig field allows: (test, the allowed values in words). Checked when a TrainConfig is made.
ALLOWED: dict[str, tuple] = {
    "epochs": (lambda v: _whole(v) and v >= 1, "a whole number >= 1"),
    "batch_size": (lambda v: _whole(v) and v >= 1, "a whole number >= 1"),
    "lr": (lambda v: _finite(v) and v > 0, "a finite number > 0; the recipe's peak is 0.4 for batches of 512"),
    "warmup": (
        lambda v: _finite(v) and 0 <= v < 1,
        "a fraction of the steps, >= 0 and < 1; 0.2 rises over the first 20%",
    ),
    "momentum": (
        lambda v: _finite(v) and 0 < v < 1,
        "a number > 0 and < 1; the recipe's Nesterov momentum needs momentum > 0 (its value is 0.9)",
    ),
    "weight_decay": (lambda v: _finite(v) and v >= 0, "a finite number >= 0"),
    "label_smoothing": (lambda v: _finite(v) and 0 <= v < 1, "a number >= 0 and < 1"),
    "width": (lambda v: _finite(v) and v > 0, "a finite number > 0; 1.0 gives the paper's widths"),
    "channel_multiple": (lambda v: _whole(v) and v >= 1, "a whole number >= 1"),
    "block": (lambda v: v in ("inception", "naive"), "'inception' or 'naive'"),
    "aux_logits": (lambda v: isinstance(v, bool), "True or False"),
    "aux_weight": (lambda v: _finite(v) and v >= 0, "a finite number >= 0"),
    "amp": (lambda v: v in ("auto", "bf16", "fp16", "none"), "'auto', 'bf16', 'fp16' or 'none'"),
    "channels_last": (lambda v: isinstance(v, bool), "True or False"),
    "compile": (lambda v: isinstance(v, bool), "True or False"),
    "max_steps": (lambda v: v is None or (_whole(v) and v >= 1), "None (no limit) or a whole number >= 1"),
    "time_split": (lambda v: isinstance(v, bool), "True or False"),
    "track_grads": (
        lambda v: isinstance(v, tuple) and all(isinstance(n, str) and n for n in v),
        "a tuple of module names such as ('conv1', 'inception3a')",
    ),
    "seed": (lambda v: _whole(v) and 0 <= v <= MAX_SEED, f"a whole number from 0 to {MAX_SEED:,}"),
    "eval_batch_size": (lambda v: _whole(v) and v >= 1, "a whole number >= 1"),
}


def option(name: str) -> str:
    """The command-line option of a TrainConfig field."""
    return "--aux" if name == "aux_logits" else "--" + name.replace("_", "-")


def config_error(name: str, value: object, allowed: str) -> ConfigError:
    """One line naming the setting (and its command-line option), the value and what is allowed."""
    return ConfigError(f"Bad setting {name}={value!r} ({option(name)} on the command line): it must be {allowed}.")


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

    def __post_init__(self) -> None:
        """Every setting checked where the config is made (by `fit`'s caller, the command line, a checkpoint): a value
        out of range raises ConfigError, one line naming it and what is allowed, before anything is trained."""
        if isinstance(self.track_grads, (list, str)):  # from JSON, or one name
            self.track_grads = (self.track_grads,) if isinstance(self.track_grads, str) else tuple(self.track_grads)
        for name, (test, allowed) in ALLOWED.items():
            if not test(getattr(self, name)):
                raise config_error(name, getattr(self, name), allowed)

    def total_steps(self, num_train: int, world_size: int = 1) -> int:
        steps = self.epochs * steps_per_epoch(num_train, self.batch_size, world_size)
        return min(steps, self.max_steps) if self.max_steps is not None else steps


# Settings that may change when a run resumes: they change how it is run or logged, not what it computes.
FREE_ON_RESUME = ("channels_last", "compile", "time_split", "track_grads", "eval_batch_size")


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


def tracked_modules(model: nn.Module, names: tuple[str, ...]) -> list[nn.Module]:
    """The modules `track_grads` names, or ConfigError naming one the model does not have (or that has no parameters,
    so no gradient) and the names it could be."""
    modules = dict(model.named_modules())
    choices = ", ".join(n for n, m in model.named_children() if any(True for _ in m.parameters()))
    for name in names:
        module = modules.get(name)
        if module is None or not any(True for _ in module.parameters()):
            what = "a module without parameters" if module is not None else "not a module of this model"
            raise config_error(
                "track_grads",
                names,
                f"names of modules with parameters, and {name!r} is {what}; this model's are {choices}",
            )
    return [modules[name] for name in names]


def check_track_grads(config: TrainConfig, num_classes: int = 10) -> None:
    """`tracked_modules` on the network the config describes, built on the meta device (no memory, no time): the
    command line checks the names before loading any data."""
    with torch.device("meta"):
        model = GoogLeNet(
            num_classes,
            config.aux_logits,
            **CIFAR,
            width=config.width,
            block=config.block,
            channel_multiple=config.channel_multiple,
        )
    tracked_modules(model, config.track_grads)


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


def make_optimizer(model: nn.Module, config: TrainConfig, fused: bool | None = None) -> torch.optim.SGD:
    """SGD with Nesterov momentum; weight decay on weights (ndim > 1) only, none on batch norm and biases.

    On CUDA the fused SGD updates every parameter in one kernel; elsewhere PyTorch's default (foreach) applies
    (`fused` overrides the choice: the tests run the fused kernel on the CPU). Parameters are taken in the order of
    their names: a checkpoint stores the optimizer's state by position, so it must not depend on the order in which
    the model registers its modules.

    The momentum buffers start as zeros. Fused SGD would otherwise create them with `empty_like` at its first step
    and, when the gradient scaler skips that step (an fp16 overflow, common in the first steps), keep that
    uninitialised memory as momentum: NaN weights a few steps later. With zeros the first real step computes
    0.9 x 0 + gradient = the gradient, the value the buffer would have been given, bit for bit.
    """
    params = [p for _, p in sorted(model.named_parameters()) if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim > 1], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
    ]
    if fused is None:
        fused = True if module_device(model).type == "cuda" else None
    optimizer = torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, nesterov=True, fused=fused)
    if config.momentum != 0:
        for p in params:
            optimizer.state[p]["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
    return optimizer
