"""The training recipe as data: `TrainConfig`, and the model, optimizer, learning-rate schedule and precision it sets.

The recipe: SGD with Nesterov momentum, a one-cycle learning rate (linear warm-up, linear decay), label
smoothing, weight decay on weights only (not on batch norm or biases), mixed precision (bf16 where the GPU
has it, fp16 with a gradient scaler otherwise), channels_last memory order, and optionally torch.compile.
`training.fit` runs it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from .costs import measure
from .data import steps_per_epoch
from .network import CIFAR, GoogLeNet
from .runtime import module_device, seed_everything


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
