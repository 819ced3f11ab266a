"""torchvision's GoogLeNet trained on ImageNet: its weights (downloaded when there is a network), a sample photo,
and its top-k labels for that photo."""

from __future__ import annotations

import socket

import torch
from matplotlib import cbook
from PIL import Image
from torch import nn

from .runtime import module_device


def load_pretrained_googlenet(timeout: float = 10.0) -> tuple[nn.Module, object] | None:
    """torchvision's ImageNet GoogLeNet and its weights enum, or None (with a message) when they cannot be had.

    The download gets `timeout` seconds per network operation, so an offline machine answers
    quickly; the previous socket timeout is restored afterwards.
    """
    import torchvision

    weights = torchvision.models.GoogLeNet_Weights.DEFAULT
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        model = torchvision.models.googlenet(weights=weights)
    except Exception as error:  # no network, a proxy, a half-written file: all mean "skip"
        print(f"Pretrained weights unavailable ({type(error).__name__}: {error}); skipping this part.")
        return None
    finally:
        socket.setdefaulttimeout(previous)
    return model, weights


def sample_photo() -> Image.Image | None:
    """Matplotlib's sample photo of Grace Hopper (ships with matplotlib), or None where it is missing."""
    try:
        with cbook.get_sample_data("grace_hopper.jpg") as file:
            return Image.open(file).convert("RGB")
    except (OSError, ValueError):
        print("matplotlib's sample photo grace_hopper.jpg is not installed here; skipping.")
        return None


@torch.no_grad()
def top_k(model: nn.Module, weights: object, image: Image.Image, k: int = 5) -> list[tuple[str, float]]:
    """The k most likely ImageNet labels and their probabilities, preprocessing `image` as `weights` prescribe."""
    batch = weights.transforms()(image).unsqueeze(0).to(module_device(model))
    probs = model.eval()(batch).softmax(dim=1)[0]
    values, indices = probs.topk(k)
    return [(weights.meta["categories"][i], p) for i, p in zip(indices.tolist(), values.tolist(), strict=True)]
