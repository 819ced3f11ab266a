"""GoogLeNet (Inception v1) assembled from Table 1 of the paper.

Read it top to bottom: `GoogLeNet.__init__` builds the stem, the nine Inception modules (one line
per row of Table 1, from `table1.TABLE1`), the two auxiliary heads and the classifier, in the
order Figure 3 draws them; `GoogLeNet.forward` runs them in that order, with the shape after every
stage. Presets (`PAPER`, `TORCHVISION`, `CIFAR`) are plain dicts of keyword arguments.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import (
    BasicConv2d,
    Inception,
    InceptionAux,
    aux_pool_out,
    check_channels,
    check_input,
    naive_with_pool_proj,
)
from .table1 import AUX, FINAL_DROPOUT, STEM, TABLE1, scaled

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
    return _pool_out(aux_feature_size(size, stem), pool4_kernel, 2)


def aux_feature_size(size: int, stem: str) -> int:
    """Side of stage 4's feature maps, which the aux heads read (14 for 224x224 with the ImageNet stem)."""
    n = _pool_out(_conv_out(size, 7, 2, 3), 3, 2) if stem == "imagenet" else size
    for k in (3, 3):
        n = _pool_out(n, k, 2)
    return n


def check_config(config: dict) -> None:
    """Raise a clear ValueError for a GoogLeNet option out of range."""
    check_channels(
        num_classes=config["num_classes"],
        in_channels=config["in_channels"],
        channel_multiple=config["channel_multiple"],
    )
    if config["stem"] not in ("imagenet", "small"):
        raise ValueError(f"stem must be 'imagenet' (224x224 input) or 'small' (32x32 input), got {config['stem']!r}")
    if config["block"] not in ("inception", "naive"):
        raise ValueError(f"block must be 'inception' (Figure 2b) or 'naive' (Figure 2a), got {config['block']!r}")
    if config["pool4_kernel"] not in (2, 3):
        raise ValueError(f"pool4_kernel must be 3 (paper) or 2 (torchvision), got {config['pool4_kernel']!r}")
    if config["width"] <= 0:
        raise ValueError(f"width must be positive, got {config['width']!r}")


def local_response_norm(enabled: bool) -> nn.Module:
    """The stem's LRN: size 5, alpha 1e-4, beta 0.75 as in the BVLC Caffe GoogLeNet (the paper gives no values)."""
    return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0) if enabled else nn.Identity()


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
        block: "inception" (Figure 2b) or "naive", meaning naive with pool projection (Figure 2a plus a 1x1
            after the pool: Table 1's output channels, no 1x1 reductions), for measuring what the reductions buy.
        width: multiplies every channel count, the auxiliary heads' 128 and 1024 included (0.25 gives a
            quarter-width network; width 1 keeps the paper's exact sizes).
        channel_multiple: round every scaled channel count to a multiple of this (1: exact; 8 for tensor cores).
        in_channels: channels of the input image.

    `model.config` holds these arguments as a dict, so `GoogLeNet(**model.config)` builds the same network.
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
        dropout: float = FINAL_DROPOUT,
        aux_pool: str = "paper",
        transform_input: bool = False,
        stem: str = "imagenet",
        block: str = "inception",
        width: float = 1.0,
        channel_multiple: int = 1,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        self.config = dict(
            num_classes=num_classes,
            aux_logits=aux_logits,
            batch_norm=batch_norm,
            lrn=lrn,
            branch3_kernel=branch3_kernel,
            pool4_kernel=pool4_kernel,
            dropout=dropout,
            aux_pool=aux_pool,
            transform_input=transform_input,
            stem=stem,
            block=block,
            width=width,
            channel_multiple=channel_multiple,
            in_channels=in_channels,
        )
        check_config(self.config)
        self.aux_logits = aux_logits
        self.transform_input = transform_input
        self.stem = stem
        self.in_channels = in_channels
        self.pool4_kernel = pool4_kernel
        bn = batch_norm

        # Table 1 with every channel count multiplied by `width` (exactly Table 1 at width 1).
        c1, c2, c3 = (scaled(c, width, channel_multiple) for c in STEM)
        t = {name: row.scaled(width, channel_multiple) for name, row in TABLE1.items()}
        if block == "inception":
            inception = partial(Inception, batch_norm=bn, branch3_kernel=branch3_kernel)
        else:  # naive with pool projection: Figure 2a plus a 1x1 after the pool, Table 1's output widths
            inception = partial(naive_with_pool_proj, batch_norm=bn)
        aux = partial(
            InceptionAux,
            num_classes=num_classes,
            batch_norm=bn,
            pool=aux_pool,
            conv_channels=scaled(AUX.conv_channels, width, channel_multiple),
            fc_features=scaled(AUX.fc_features, width, channel_multiple),
        )

        if stem == "imagenet":
            self.conv1 = BasicConv2d(in_channels, c1, 7, stride=2, padding=3, batch_norm=bn)
            self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        else:  # 32x32 images: a 3x3/1 convolution and no pool
            self.conv1 = BasicConv2d(in_channels, c1, 3, padding=1, batch_norm=bn)
            self.maxpool1 = nn.Identity()
        self.lrn1 = local_response_norm(lrn)
        self.conv2 = BasicConv2d(c1, c2, 1, batch_norm=bn)
        self.conv3 = BasicConv2d(c2, c3, 3, padding=1, batch_norm=bn)
        self.lrn2 = local_response_norm(lrn)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception3a = inception(c3, *t["3a"])
        self.inception3b = inception(t["3a"].out_channels, *t["3b"])
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception4a = inception(t["3b"].out_channels, *t["4a"])
        self.aux1 = aux(t["4a"].out_channels) if aux_logits else None
        self.inception4b = inception(t["4a"].out_channels, *t["4b"])
        self.inception4c = inception(t["4b"].out_channels, *t["4c"])
        self.inception4d = inception(t["4c"].out_channels, *t["4d"])
        self.aux2 = aux(t["4d"].out_channels) if aux_logits else None
        self.inception4e = inception(t["4d"].out_channels, *t["4e"])
        self.maxpool4 = nn.MaxPool2d(pool4_kernel, stride=2, ceil_mode=True)

        self.inception5a = inception(t["4e"].out_channels, *t["5a"])
        self.inception5b = inception(t["5a"].out_channels, *t["5b"])

        self.avgpool = nn.AdaptiveAvgPool2d(1)  # = the paper's 7x7 average pool at 224x224 input
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(t["5b"].out_channels, num_classes)
        self.min_input_size = next(n for n in range(1, 1024) if final_feature_size(n, stem, pool4_kernel) >= 1)

    def _transform_input(self, x: torch.Tensor) -> torch.Tensor:
        """torchvision's transform_input: ImageNet mean/std normalisation -> (x - 0.5) / 0.5."""
        mean = x.new_tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = x.new_tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        return (x * std + mean - 0.5) / 0.5

    @property
    def min_train_input_size(self) -> int:
        """The smallest image side that training mode takes: there the aux heads run too, and the paper's 5x5/3 aux
        pool needs stage 4's maps to be 14x14 to 16x16 (`min_input_size` is the smallest for eval mode)."""
        if self.aux1 is None or self.config["aux_pool"] == "adaptive":
            return self.min_input_size
        return next(n for n in range(1, 1024) if aux_pool_out(aux_feature_size(n, self.stem)) >= 4)

    def _check_image(self, x: torch.Tensor) -> None:
        """A clear ValueError for a tensor that is not (N, in_channels, H, W) or an image too small for the stem (or,
        in training mode, for the aux heads)."""
        check_input(x, self.in_channels, "GoogLeNet", self.conv1.conv.weight.dtype)
        if min(x.shape[-2:]) < self.min_input_size:
            raise ValueError(
                f"GoogLeNet with the {self.stem!r} stem needs images of at least "
                f"{self.min_input_size}x{self.min_input_size} pixels, got {tuple(x.shape[-2:])}; "
                "resize the images (the paper uses 224x224) or use stem='small' for 32x32 images"
            )
        if self.training and min(x.shape[-2:]) < self.min_train_input_size:
            n = self.min_train_input_size
            raise ValueError(
                f"GoogLeNet in training mode runs its aux heads, whose 5x5/3 pool needs images of at least {n}x{n} "
                f"pixels, got {tuple(x.shape[-2:])}; call model.eval() to run without them, or build the network "
                "with aux_pool='adaptive' (or aux_logits=False)"
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor | GoogLeNetOutputs:
        self._check_image(x)
        if self.transform_input:
            x = self._transform_input(x)
        # Shapes for the paper's network on 224x224 images (stem="small" on 32x32: 16, 8, 4 where these say 28, 14, 7).
        # N x 3 x 224 x 224
        x = self.conv1(x)
        # N x 64 x 112 x 112
        x = self.maxpool1(x)
        # N x 64 x 56 x 56
        x = self.lrn1(x)
        x = self.conv2(x)
        # N x 64 x 56 x 56
        x = self.conv3(x)
        # N x 192 x 56 x 56
        x = self.lrn2(x)
        x = self.maxpool2(x)
        # N x 192 x 28 x 28
        x = self.inception3a(x)
        # N x 256 x 28 x 28
        x = self.inception3b(x)
        # N x 480 x 28 x 28
        x = self.maxpool3(x)
        # N x 480 x 14 x 14
        x = self.inception4a(x)
        # N x 512 x 14 x 14
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4b(x)
        # N x 512 x 14 x 14
        x = self.inception4c(x)
        # N x 512 x 14 x 14
        x = self.inception4d(x)
        # N x 528 x 14 x 14
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.inception4e(x)
        # N x 832 x 14 x 14
        x = self.maxpool4(x)
        # N x 832 x 7 x 7
        x = self.inception5a(x)
        # N x 832 x 7 x 7
        x = self.inception5b(x)
        # N x 1024 x 7 x 7
        x = self.avgpool(x)
        # N x 1024 x 1 x 1
        x = torch.flatten(x, 1)
        # N x 1024
        x = self.dropout(x)
        x = self.fc(x)
        # N x 1000 (num_classes)
        if aux1 is not None:
            return GoogLeNetOutputs(x, aux1, aux2)
        return x


def googlenet_loss(
    outputs: torch.Tensor | GoogLeNetOutputs,
    targets: torch.Tensor,
    aux_weight: float = AUX.loss_weight,
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
    preset = {**TORCHVISION, "dropout": tv_model.dropout.p}
    model = GoogLeNet(num_classes, aux_logits=aux, transform_input=tv_model.transform_input, **preset)
    model.load_state_dict(tv_model.state_dict())
    return model.to(next(tv_model.parameters()).device).train(tv_model.training)


__all__ = [
    "CIFAR",
    "PAPER",
    "TABLE1",  # re-exported from table1, where it lives
    "TORCHVISION",
    "GoogLeNet",
    "GoogLeNetOutputs",
    "final_feature_size",
    "from_torchvision",
    "googlenet_loss",
]
