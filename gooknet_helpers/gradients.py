"""How much gradient each stage of GoogLeNet gets: from the main loss alone and with the auxiliary heads' losses
added (`gradient_norms`), and He initialisation (`he_init`), which keeps ReLU activations from shrinking."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .network import GoogLeNet
from .table1 import AUX


def stage_names(model: GoogLeNet) -> list[str]:
    """The layers with weights along the main path: conv1, conv2, conv3, inception3a ... inception5b."""
    return [n for n, m in model.named_children() if n.startswith(("conv", "inception")) and m is not None]


class GradNorm(NamedTuple):
    """RMS gradient per parameter of one stage, from the main loss alone and with the aux losses added."""

    name: str
    main: float
    with_aux: float


def gradient_norms(
    model: GoogLeNet, images: torch.Tensor, labels: torch.Tensor, aux_weight: float = AUX.loss_weight
) -> list[GradNorm]:
    """One forward pass in training mode, then the gradient of each stage two ways.

    `main` is the gradient of the main cross entropy; `with_aux` adds aux_weight x the two
    auxiliary losses, the paper's training loss. Both come from the same forward pass (the
    same dropout masks), so the difference is exactly what the aux heads contribute. Each
    value is the root mean square over the stage's parameters (norm / sqrt(count)), so stages
    of different sizes compare fairly: conv1 has 9,472 parameters, inception5b 1.4 million.
    """
    if model.aux1 is None:
        raise ValueError("gradient_norms needs a model built with aux_logits=True")
    was_training = model.training
    names = stage_names(model)
    params = [list(getattr(model, n).parameters()) for n in names]
    flat = [p for group in params for p in group]
    try:
        out = model.train()(images)
        main = F.cross_entropy(out.logits, labels)
        aux = F.cross_entropy(out.aux1, labels) + F.cross_entropy(out.aux2, labels)
        g_main = torch.autograd.grad(main, flat, retain_graph=True)
        g_aux = torch.autograd.grad(aux, flat, allow_unused=True)
    finally:
        model.train(was_training)
    rows, i = [], 0
    for name, group in zip(names, params, strict=True):
        main_sq = with_sq = 0.0  # sums of squares in Python floats: float64 is missing on MPS
        for gm, ga in zip(g_main[i : i + len(group)], g_aux[i : i + len(group)], strict=True):
            total = gm if ga is None else gm + aux_weight * ga  # None: the aux heads do not reach this stage
            main_sq += gm.norm().item() ** 2
            with_sq += total.norm().item() ** 2
        count = sum(p.numel() for p in group)
        rows.append(GradNorm(name, (main_sq / count) ** 0.5, (with_sq / count) ** 0.5))
        i += len(group)
    return rows


def he_init(model: nn.Module) -> nn.Module:
    """He (Kaiming) normal initialisation of every convolution, zero biases: keeps ReLU activations from shrinking."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model
