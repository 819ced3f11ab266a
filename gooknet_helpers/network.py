"""GoogLeNet (Inception v1) assembled from Table 1 of the paper, written as data.

Read it top to bottom: `TABLE1` holds the nine Inception rows, `GoogLeNet.__init__`
builds the stem, the nine modules and the heads, `GoogLeNet.forward` runs them in
the order of Figure 3. Presets (`PAPER`, `TORCHVISION`, `CIFAR`) are plain dicts of
keyword arguments.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import BasicConv2d, Inception, InceptionAux, NaiveInception, check_channels, check_input

# Table 1, one row per Inception module:
# name: (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)
TABLE1: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
STEM_CHANNELS = (64, 192)  # conv1 output, conv3 output (= the input of 3a)

# Presets: keyword arguments for GoogLeNet.
PAPER: dict = {}
TORCHVISION: dict = dict(
    batch_norm=True,  # BasicConv2d = conv (no bias) + BatchNorm + ReLU
    lrn=False,  # no LocalResponseNorm in the stem
    branch3_kernel=3,  # a 3x3 where the paper has 5x5 (pytorch/vision#906)
    pool4_kernel=2,  # 2x2 max pool before stage 5 where the paper has 3x3
    dropout=0.2,  # final dropout 0.2 where the paper has 0.4
    aux_pool="adaptive",  # adaptive 4x4 average pool where the paper has 5x5 stride 3
)
CIFAR: dict = dict(stem="small", batch_norm=True, lrn=False, aux_pool="adaptive")


class GoogLeNetOutputs(NamedTuple):
    """Training-mode output with auxiliary heads (torchvision orders them logits, aux2, aux1)."""

    logits: torch.Tensor
    aux1: torch.Tensor
    aux2: torch.Tensor


def scaled(channels: int, width: float) -> int:
    """A channel count multiplied by the width factor, at least 1."""
    return max(1, round(channels * width))


def _conv_out(n: int, k: int, s: int = 1, p: int = 0) -> int:
    return (n + 2 * p - k) // s + 1


def _pool_out(n: int, k: int, s: int) -> int:
    """Output size of a max pool with ceil_mode=True and no padding (0 where PyTorch refuses)."""
    if n <= k - s:
        return 0
    out = math.ceil((n - k) / s) + 1
    return out - 1 if (out - 1) * s >= n else out


def final_feature_size(size: int, stem: str, pool4_kernel: int) -> int:
    """Side of the last feature map (7 for 224x224 with the ImageNet stem; 0 = input too small)."""
    n = _pool_out(_conv_out(size, 7, 2, 3), 3, 2) if stem == "imagenet" else size
    for k in (3, 3, pool4_kernel):
        n = _pool_out(n, k, 2)
    return n


class GoogLeNet(nn.Module):
    """GoogLeNet from the paper; options reproduce torchvision's variant or a 32x32 stem.

    Args:
        num_classes: outputs of the classifier (1000 for ImageNet).
        aux_logits: build the two auxiliary classifiers (after 4a and 4d).
        batch_norm: BatchNorm in every conv block (torchvision) instead of conv bias.
        lrn: LocalResponseNorm in the stem, as in Figure 3.
        branch3_kernel: 5 (paper) or 3 (torchvision) in the third branch.
        pool4_kernel: 3 (paper) or 2 (torchvision) for the max pool before stage 5.
        dropout: before the final linear layer (paper 0.4, torchvision 0.2).
        aux_pool: "paper" (5x5 average pool, stride 3) or "adaptive" (to 4x4).
        transform_input: re-normalise ImageNet-normalised input as torchvision's weights expect.
        stem: "imagenet" (7x7/2 conv and two pools: 224 -> 28) or "small" (3x3/1 conv, one pool: 32 -> 16).
        block: "inception" (Figure 2b) or "naive" (Figure 2a with a pool projection: same output channels,
            no 1x1 reductions), for measuring what the reductions buy.
        width: multiplies every channel count (0.25 gives a quarter-width network).
        in_channels: channels of the input image.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        aux_logits: bool = True,
        *,
        batch_norm: bool = False,
        lrn: bool = True,
        branch3_kernel: int = 5,
        pool4_kernel: int = 3,
        dropout: float = 0.4,
        aux_pool: str = "paper",
        transform_input: bool = False,
        stem: str = "imagenet",
        block: str = "inception",
        width: float = 1.0,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        check_channels(num_classes=num_classes, in_channels=in_channels)
        if stem not in ("imagenet", "small"):
            raise ValueError(f"stem must be 'imagenet' (224x224 input) or 'small' (32x32 input), got {stem!r}")
        if block not in ("inception", "naive"):
            raise ValueError(f"block must be 'inception' (Figure 2b) or 'naive' (Figure 2a), got {block!r}")
        if pool4_kernel not in (2, 3):
            raise ValueError(f"pool4_kernel must be 3 (paper) or 2 (torchvision), got {pool4_kernel!r}")
        if width <= 0:
            raise ValueError(f"width must be positive, got {width!r}")
        self.aux_logits = aux_logits
        self.transform_input = transform_input
        self.stem = stem
        self.in_channels = in_channels
        self.pool4_kernel = pool4_kernel
        bn = batch_norm
        c1, c3 = (scaled(c, width) for c in STEM_CHANNELS)

        def lrn_layer() -> nn.Module:
            # size 5, alpha 1e-4, beta 0.75 as in the BVLC Caffe GoogLeNet; the paper gives no values.
            return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0) if lrn else nn.Identity()

        if stem == "imagenet":
            self.conv1 = BasicConv2d(in_channels, c1, 7, stride=2, padding=3, batch_norm=bn)
            self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        else:
            self.conv1 = BasicConv2d(in_channels, c1, 3, padding=1, batch_norm=bn)
            self.maxpool1 = nn.Identity()
        self.lrn1 = lrn_layer()
        self.conv2 = BasicConv2d(c1, c1, 1, batch_norm=bn)
        self.conv3 = BasicConv2d(c1, c3, 3, padding=1, batch_norm=bn)
        self.lrn2 = lrn_layer()
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        channels = c3
        for name, widths in TABLE1.items():
            ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj = (scaled(c, width) for c in widths)
            if block == "inception":
                module = Inception(
                    channels,
                    ch1x1,
                    ch3x3red,
                    ch3x3,
                    ch5x5red,
                    ch5x5,
                    pool_proj,
                    batch_norm=bn,
                    branch3_kernel=branch3_kernel,
                )
            else:
                module = NaiveInception(channels, ch1x1, ch3x3, ch5x5, pool_proj, batch_norm=bn)
            self.add_module(f"inception{name}", module)
            channels = module.out_channels
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.maxpool4 = nn.MaxPool2d(pool4_kernel, stride=2, ceil_mode=True)

        if aux_logits:
            self.aux1 = InceptionAux(self.inception4a.out_channels, num_classes, batch_norm=bn, pool=aux_pool)
            self.aux2 = InceptionAux(self.inception4d.out_channels, num_classes, batch_norm=bn, pool=aux_pool)
        else:
            self.aux1 = self.aux2 = None

        self.avgpool = nn.AdaptiveAvgPool2d(1)  # = the paper's 7x7 average pool at 224x224 input
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)
        self.min_input_size = next(n for n in range(1, 1024) if final_feature_size(n, stem, pool4_kernel) >= 1)

    def _transform_input(self, x: torch.Tensor) -> torch.Tensor:
        """torchvision's transform_input: ImageNet mean/std normalisation -> (x - 0.5) / 0.5."""
        mean = x.new_tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = x.new_tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        return (x * std + mean - 0.5) / 0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor | GoogLeNetOutputs:
        check_input(x, self.in_channels, "GoogLeNet")
        if min(x.shape[-2:]) < self.min_input_size:
            raise ValueError(
                f"GoogLeNet with the {self.stem!r} stem needs images of at least "
                f"{self.min_input_size}x{self.min_input_size} pixels, got {tuple(x.shape[-2:])}; "
                "resize the images (the paper uses 224x224) or use stem='small' for 32x32 images"
            )
        if self.transform_input:
            x = self._transform_input(x)
        # Stem (Figure 3, bottom): conv 7x7/2, max pool, LRN, conv 1x1, conv 3x3, LRN, max pool.
        x = self.maxpool1(self.conv1(x))
        x = self.conv3(self.conv2(self.lrn1(x)))
        x = self.maxpool2(self.lrn2(x))
        # Stage 3 at 28x28, stage 4 at 14x14, stage 5 at 7x7 (for 224x224 input).
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        # Head: global average pool, dropout, linear (the softmax lives in the loss).
        x = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        if aux1 is not None:
            return GoogLeNetOutputs(x, aux1, aux2)
        return x


def googlenet_loss(
    outputs: torch.Tensor | GoogLeNetOutputs,
    targets: torch.Tensor,
    aux_weight: float = 0.3,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Cross entropy of the main head, plus aux_weight x each auxiliary loss in training (Section 5)."""
    if isinstance(outputs, GoogLeNetOutputs):
        losses = [F.cross_entropy(o, targets, label_smoothing=label_smoothing) for o in outputs]
        return losses[0] + aux_weight * (losses[1] + losses[2])
    return F.cross_entropy(outputs, targets, label_smoothing=label_smoothing)


def from_torchvision(tv_model: nn.Module) -> GoogLeNet:
    """A GoogLeNet holding the same weights as a `torchvision.models.googlenet` instance.

    Our module names match torchvision's, so the state dict loads as it is; the
    TORCHVISION preset supplies the architectural differences.
    """
    num_classes = tv_model.fc.out_features
    aux = tv_model.aux1 is not None
    model = GoogLeNet(num_classes, aux_logits=aux, transform_input=tv_model.transform_input, **TORCHVISION)
    model.dropout.p = tv_model.dropout.p
    model.load_state_dict(tv_model.state_dict())
    return model.to(next(tv_model.parameters()).device).train(tv_model.training)


__all__ = [
    "CIFAR",
    "PAPER",
    "TABLE1",
    "TORCHVISION",
    "GoogLeNet",
    "GoogLeNetOutputs",
    "final_feature_size",
    "from_torchvision",
    "googlenet_loss",
]
