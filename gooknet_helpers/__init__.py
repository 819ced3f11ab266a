"""gooknet_helpers: the code the GoogLeNet teaching notebooks share."""

import sys as _sys

if _sys.argv[:1] == ["-m"] and "gooknet_helpers.train" in getattr(_sys, "orig_argv", ()):
    # `python -m gooknet_helpers.train` is importing this package: Ctrl-C during the imports (PyTorch takes seconds)
    # exits with one line and status 130, not a traceback; train.main() restores Ctrl-C's usual handler.
    from .stopping import quiet_start

    quiet_start()

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
