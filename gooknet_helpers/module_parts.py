"""The parts of Figure 2's modules and Section 5's auxiliary head in a learner's words, for `module_checks`' messages.

A submodule path as Python writes it and what it is ("branch2[0].conv (the 1x1 reduction of the 3x3 branch)"),
a layer's kind ("5x5 conv", "max pool"), a pool's window as the paper writes it ("5x5/3") and as a learner
would build it.
"""

from __future__ import annotations

import torch
from torch import nn

# What each submodule is, in the words of Figure 2 and Section 5.
PARTS = {
    "branch1": "the 1x1 branch",
    "branch2": "the 3x3 branch",
    "branch2.0": "the 1x1 reduction of the 3x3 branch",
    "branch2.1": "the 3x3 convolution",
    "branch3": "the 5x5 branch",
    "branch3.0": "the 1x1 reduction of the 5x5 branch",
    "branch3.1": "the 5x5 convolution",
    "branch4": "the pool branch",
    "branch4.0": "the 3x3 max pool",
    "branch4.1": "the pool projection",
    "pool": "the 5x5/3 average pool",
    "conv": "the 1x1 convolution",
    "fc1": "the fully connected layer",
    "relu": "the ReLU after fc1",
    "dropout": "the dropout",
    "fc2": "the classifier",
}
BRANCHES = ("branch1", "branch2", "branch3", "branch4")


def written(path: str) -> str:
    """A submodule path as Python writes it: "branch2.0.conv" -> "branch2[0].conv"."""
    return ".".join(f"[{p}]" if p.isdigit() else p for p in path.split(".")).replace(".[", "[")


def part_words(path: str) -> str | None:
    """The package's part a path lies in, in words ("the pool projection"); None if it is not one of them."""
    known = max((p for p in PARTS if path == p or path.startswith(p + ".")), key=len, default=None)
    return PARTS[known] if known else None


def describe(path: str) -> str:
    """A submodule path in the learner's terms: "branch2.0.conv" -> "branch2[0].conv (the 1x1 reduction ...)"."""
    words = part_words(path)
    return f"{written(path)} ({words})" if words else written(path)


def named(their_path: str, our_path: str) -> str:
    """A learner's layer by its own path and the package's part it plays: "branch4[0].conv (the pool projection)"."""
    words = part_words(our_path)
    return f"{written(their_path)} ({words})" if words else written(their_path)


def shape(x: torch.Tensor) -> str:
    return "x".join(map(str, x.shape))


def kind_of(module: nn.Module) -> str | None:
    """What a leaf computes, in words ("1x1 conv", "max pool", "ReLU", ...); None for what computes nothing."""
    if isinstance(module, (nn.Identity, nn.Flatten)):
        return None
    if isinstance(module, nn.Conv2d):
        return f"{module.kernel_size[0]}x{module.kernel_size[1]} conv"
    kinds = {
        nn.MaxPool2d: "max pool",
        nn.AvgPool2d: "average pool",
        nn.AdaptiveAvgPool2d: "adaptive average pool",
        nn.AdaptiveMaxPool2d: "adaptive max pool",
        nn.ReLU: "ReLU",
        nn.Linear: "fully connected layer",
        nn.Dropout: "dropout",
        nn.BatchNorm2d: "batch norm",
    }
    return next((word for cls, word in kinds.items() if isinstance(module, cls)), type(module).__name__)


POOLS = ("max pool", "average pool", "adaptive average pool", "adaptive max pool")


def window(pool: nn.Module) -> str:
    """A pooling layer's window as the paper writes it: "5x5/3" is kernel 5, stride 3."""
    if not hasattr(pool, "kernel_size"):
        return f"adaptive (to {pool.output_size})"
    (k, _), (s, _) = (nn.modules.utils._pair(getattr(pool, a)) for a in ("kernel_size", "stride"))
    return f"{k}x{k}/{s}"


def constructor(pool: nn.Module) -> str:
    """The package's pool as a learner would build it."""
    if isinstance(pool, nn.MaxPool2d):
        (k, _), (s, _), (p, _) = (nn.modules.utils._pair(v) for v in (pool.kernel_size, pool.stride, pool.padding))
        return f"nn.MaxPool2d({k}, stride={s}, padding={p}{', ceil_mode=True' if pool.ceil_mode else ''})"
    if isinstance(pool, nn.AvgPool2d):
        return f"nn.AvgPool2d({pool.kernel_size}, stride={pool.stride})"
    return repr(pool)
