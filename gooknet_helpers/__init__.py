"""gooknet_helpers: the code the GoogLeNet teaching notebooks share."""

from .blocks import BasicConv2d, Inception, InceptionAux, NaiveInception
from .network import (
    CIFAR,
    PAPER,
    TABLE1,
    TORCHVISION,
    GoogLeNet,
    GoogLeNetOutputs,
    from_torchvision,
    googlenet_loss,
)
from .reference import reference_model
from .runtime import pick_device, runtime_report, seed_everything, smoke
from .source import show_code

__all__ = [
    "CIFAR",
    "PAPER",
    "TABLE1",
    "TORCHVISION",
    "BasicConv2d",
    "GoogLeNet",
    "GoogLeNetOutputs",
    "Inception",
    "InceptionAux",
    "NaiveInception",
    "from_torchvision",
    "googlenet_loss",
    "pick_device",
    "reference_model",
    "runtime_report",
    "seed_everything",
    "show_code",
    "smoke",
]
