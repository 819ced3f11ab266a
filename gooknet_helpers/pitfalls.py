"""The pitfalls of notebook 03, section E: small, deliberately broken versions of real code, each paired with its fix
in the notebook, and `fuse_1x1`, which shows what a 1x1 reduction without its ReLU collapses into."""

from __future__ import annotations

import torch
from torch import nn

from .network import GoogLeNet


class ShadowedTrain(nn.Module):
    """Bug: a constructor flag named `train` replaces the method nn.Module.train."""

    def __init__(self, train: bool = True) -> None:
        super().__init__()
        self.train = train  # shadows nn.Module.train: model.train() / model.eval() now fail
        self.fc = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class AuxOnlyGoogLeNet(GoogLeNet):
    """Bug: in training mode forward() returns the aux logits and drops the main head's."""

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        out = super().forward(x)
        return (out.aux1, out.aux2) if self.training else out


def fuse_1x1(reduce: nn.Conv2d, conv: nn.Conv2d) -> nn.Conv2d:
    """The single k x k convolution equal to a 1x1 reduction followed by `conv` with no ReLU between.

    Exact away from the border; at the border the zero padding of `conv` meets the 1x1's
    bias, which the fused convolution pads with zeros too.
    """
    w1 = reduce.weight[:, :, 0, 0]  # (reduced, in)
    bias = reduce.bias is not None or conv.bias is not None  # batch-norm blocks have convolutions without bias
    fused = nn.Conv2d(reduce.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=bias)
    with torch.no_grad():
        fused.weight.copy_(torch.einsum("orkl,ri->oikl", conv.weight, w1))
        if bias:
            fused.bias.zero_()
            if conv.bias is not None:
                fused.bias += conv.bias
            if reduce.bias is not None:
                fused.bias += torch.einsum("orkl,r->o", conv.weight, reduce.bias)
    return fused
