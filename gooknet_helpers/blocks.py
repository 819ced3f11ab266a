"""The building blocks of GoogLeNet, one small module per concept, named as in the paper.

Szegedy et al., "Going Deeper with Convolutions" (2014), arXiv:1409.4842:
Figure 2(a) is `NaiveInception`, Figure 2(b) is `Inception`, and the text of
Section 5 describes `InceptionAux`.
"""

from __future__ import annotations

import torch
from torch import nn

from .table1 import AUX


def check_channels(**channels: int | None) -> None:
    """Raise a clear ValueError if any given channel count is not a positive int."""
    for name, value in channels.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive integer number of channels, got {value!r}")


def check_input(x: torch.Tensor, in_channels: int, where: str, weight_dtype: torch.dtype | None = None) -> None:
    """Raise a clear TypeError unless x is a floating-point tensor (float64 only where the weights are float64, as
    given by `weight_dtype`), and a clear ValueError unless it is (N, in_channels, H, W)."""
    if not isinstance(x, torch.Tensor):
        how = "torch.from_numpy(array)" if type(x).__module__ == "numpy" else "torch.tensor(...) or torch.stack(...)"
        raise TypeError(
            f"{where} takes a torch.Tensor of shape (N, C, H, W), not a {type(x).__name__}: convert it with {how} "
            "(and standardise uint8 images with gooknet_helpers.data.normalize)."
        )
    if not x.is_floating_point():
        dtype = str(x.dtype).removeprefix("torch.")
        raise TypeError(
            f"{where} takes float images standardised as in training, not {dtype} values"
            + (" (raw pixels, 0 to 255)" if x.dtype == torch.uint8 else "")
            + ": pass normalize(images), from gooknet_helpers.data, which converts uint8 images."
        )
    if x.dtype == torch.float64 and weight_dtype is not None and weight_dtype != torch.float64:
        raise TypeError(
            f"{where} got float64 (double) images, but its weights are {str(weight_dtype).removeprefix('torch.')}: "
            "convert them with images.float()."
        )
    if x.dim() != 4:
        raise ValueError(f"{where} expects a 4-D tensor (N, C, H, W), got shape {tuple(x.shape)}")
    if x.shape[1] != in_channels:
        raise ValueError(
            f"{where} was built for {in_channels} input channels but got a tensor with "
            f"{x.shape[1]} channels (shape {tuple(x.shape)}); channels are dimension 1 of (N, C, H, W)"
        )


class BasicConv2d(nn.Module):
    """Convolution followed by ReLU, as every convolution in the paper is.

    With `batch_norm=True` it becomes torchvision's block: conv without bias, BatchNorm, ReLU.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        check_channels(in_channels=in_channels, out_channels=out_channels)
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=not batch_norm
        )
        # eps=0.001 as in torchvision's GoogLeNet, so its weights load unchanged.
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001) if batch_norm else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return self.relu(x)


class NaiveInception(nn.Module):
    """Figure 2(a): 1x1, 3x3 and 5x5 convolutions and a 3x3 max pool side by side.

    With `pool_proj=None` the pooling branch passes all `in_channels` through, so the
    output has ch1x1 + ch3x3 + ch5x5 + in_channels channels: more than the input,
    which is why stacking these modules blows up (Section 4 of the paper).
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3: int,
        ch5x5: int,
        pool_proj: int | None = None,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        check_channels(in_channels=in_channels, ch1x1=ch1x1, ch3x3=ch3x3, ch5x5=ch5x5, pool_proj=pool_proj)
        self.in_channels = in_channels
        self.branch1 = BasicConv2d(in_channels, ch1x1, 1, batch_norm=batch_norm)
        self.branch2 = BasicConv2d(in_channels, ch3x3, 3, padding=1, batch_norm=batch_norm)
        self.branch3 = BasicConv2d(in_channels, ch5x5, 5, padding=2, batch_norm=batch_norm)
        pool = nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True)
        if pool_proj is None:
            self.branch4 = nn.Sequential(pool)
        else:
            self.branch4 = nn.Sequential(pool, BasicConv2d(in_channels, pool_proj, 1, batch_norm=batch_norm))
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + (in_channels if pool_proj is None else pool_proj)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels, type(self).__name__)
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


def naive_with_pool_proj(
    in_channels: int,
    ch1x1: int,
    ch3x3red: int,
    ch3x3: int,
    ch5x5red: int,
    ch5x5: int,
    pool_proj: int,
    batch_norm: bool = False,
) -> NaiveInception:
    """A Table 1 row built naive with a pool projection: Figure 2(a) plus a 1x1 after the max pool.

    Same arguments as `Inception` and the same output channels, but no 1x1 reductions (ch3x3red and
    ch5x5red are unused), so `GoogLeNet(block="naive")` can put it wherever Table 1 has a module.
    """
    return NaiveInception(in_channels, ch1x1, ch3x3, ch5x5, pool_proj, batch_norm=batch_norm)


class Inception(nn.Module):
    """Figure 2(b): the Inception module with 1x1 dimension reductions.

    A 1x1 convolution shrinks the channels before the expensive 3x3 and 5x5
    convolutions, and a 1x1 projection follows the max pool. Arguments follow the
    columns of Table 1. `branch3_kernel=3` reproduces torchvision, whose third
    branch uses a 3x3 where the paper has 5x5 (pytorch/vision#906).
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
        batch_norm: bool = False,
        branch3_kernel: int = 5,
    ) -> None:
        super().__init__()
        check_channels(
            in_channels=in_channels,
            ch1x1=ch1x1,
            ch3x3red=ch3x3red,
            ch3x3=ch3x3,
            ch5x5red=ch5x5red,
            ch5x5=ch5x5,
            pool_proj=pool_proj,
        )
        if branch3_kernel not in (3, 5):
            raise ValueError(f"branch3_kernel must be 5 (paper) or 3 (torchvision), got {branch3_kernel!r}")
        self.in_channels = in_channels
        bn = batch_norm
        self.branch1 = BasicConv2d(in_channels, ch1x1, 1, batch_norm=bn)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, 1, batch_norm=bn),
            BasicConv2d(ch3x3red, ch3x3, 3, padding=1, batch_norm=bn),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, 1, batch_norm=bn),
            BasicConv2d(ch5x5red, ch5x5, branch3_kernel, padding=branch3_kernel // 2, batch_norm=bn),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, 1, batch_norm=bn),
        )
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels, type(self).__name__)
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


def aux_pool_out(size: int) -> int:
    """Side of the paper's aux pool output (5x5, stride 3, no padding) for an input side `size` (0: too small)."""
    return max(0, (size - AUX.pool_kernel) // AUX.pool_stride + 1)


class InceptionAux(nn.Module):
    """An auxiliary classifier, as Section 5 of the paper describes it.

    5x5 average pool with stride 3 (14x14 -> 4x4 after 4a and 4d), 1x1 convolution
    to 128 channels + ReLU, fully connected 1024 + ReLU, dropout 0.7, linear to
    classes (the constants live in `table1.AUX`). `pool="adaptive"` pools to 4x4 whatever the input size, as torchvision
    does (its windows differ from 5x5/3 even at 14x14). `conv_channels` and `fc_features`
    default to the paper's 128 and 1024; a narrower GoogLeNet scales them with its width.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        batch_norm: bool = False,
        pool: str = "paper",
        dropout: float = AUX.dropout,
        conv_channels: int = AUX.conv_channels,
        fc_features: int = AUX.fc_features,
    ) -> None:
        super().__init__()
        check_channels(
            in_channels=in_channels, num_classes=num_classes, conv_channels=conv_channels, fc_features=fc_features
        )
        if pool not in ("paper", "adaptive"):
            raise ValueError(f"pool must be 'paper' (5x5 stride 3) or 'adaptive' (torchvision), got {pool!r}")
        self.in_channels = in_channels
        if pool == "paper":
            self.pool = nn.AvgPool2d(AUX.pool_kernel, stride=AUX.pool_stride)  # 5x5/3: 14x14 -> 4x4
        else:
            self.pool = nn.AdaptiveAvgPool2d((4, 4))  # torchvision: 4x4 whatever the input size
        self.conv = BasicConv2d(in_channels, conv_channels, 1, batch_norm=batch_norm)
        self.fc1 = nn.Linear(conv_channels * 4 * 4, fc_features)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(fc_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels, type(self).__name__)
        if isinstance(self.pool, nn.AvgPool2d) and (aux_pool_out(x.shape[-2]), aux_pool_out(x.shape[-1])) != (4, 4):
            raise ValueError(
                f"InceptionAux expects a 14x14 feature map (14 to 16 pool to 4x4), got {tuple(x.shape[-2:])}; "
                "use pool='adaptive' for other input sizes"
            )
        x = self.conv(self.pool(x))
        x = self.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(self.dropout(x))
