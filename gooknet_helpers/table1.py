"""Table 1 of the paper in one place: the widths the network is built from and the values the paper prints.

Szegedy et al., "Going Deeper with Convolutions" (2014), arXiv:1409.4842, Table 1 and Section 5.
Everything else in the package reads from here: `GoogLeNet` builds itself from `TABLE1`, `STEM` and
`AUX`; `costs.table1` compares what it measures with `PRINTED`.

The paper prints parameters in K = 1024 and operations (multiply-adds) in M = 10^6.
"""

from __future__ import annotations

from typing import NamedTuple


def scaled(channels: int, width: float, multiple: int = 1) -> int:
    """A channel count multiplied by the width factor, rounded to a multiple of `multiple` (at least `multiple`).

    `multiple=1` keeps exact counts for teaching; 8 suits GPU tensor cores (training presets).
    """
    return max(multiple, round(channels * width / multiple) * multiple)


class InceptionWidths(NamedTuple):
    """The six width columns of one Inception row of Table 1, in the paper's order.

    The order is `Inception`'s argument order, so `Inception(192, *TABLE1["3a"])` builds module 3a.
    """

    ch1x1: int  # "#1x1": the 1x1 branch
    ch3x3red: int  # "#3x3 reduce": the 1x1 reduction before the 3x3
    ch3x3: int  # "#3x3"
    ch5x5red: int  # "#5x5 reduce": the 1x1 reduction before the 5x5
    ch5x5: int  # "#5x5"
    pool_proj: int  # "pool proj": the 1x1 projection after the 3x3 max pool

    @property
    def out_channels(self) -> int:
        """Channels of the module's output: the four branches concatenated."""
        return self.ch1x1 + self.ch3x3 + self.ch5x5 + self.pool_proj

    def scaled(self, width: float, multiple: int = 1) -> InceptionWidths:
        """Every width multiplied by `width` (see `scaled`); width 1 gives the row unchanged."""
        return InceptionWidths(*(scaled(c, width, multiple) for c in self))


# Table 1, one row per Inception module, columns as printed: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
TABLE1: dict[str, InceptionWidths] = {
    "3a": InceptionWidths(64, 96, 128, 16, 32, 32),
    "3b": InceptionWidths(128, 128, 192, 32, 96, 64),
    "4a": InceptionWidths(192, 96, 208, 16, 48, 64),
    "4b": InceptionWidths(160, 112, 224, 24, 64, 64),
    "4c": InceptionWidths(128, 128, 256, 24, 64, 64),
    "4d": InceptionWidths(112, 144, 288, 32, 64, 64),
    "4e": InceptionWidths(256, 160, 320, 32, 128, 128),
    "5a": InceptionWidths(256, 160, 320, 32, 128, 128),
    "5b": InceptionWidths(384, 192, 384, 48, 128, 128),
}


class StemWidths(NamedTuple):
    """Output channels of the stem's three convolutions (Table 1's first and second convolution rows)."""

    conv1: int  # 7x7/2 convolution
    conv2: int  # 1x1 reduction before the 3x3 ("#3x3 reduce" of the 3x3/1 row)
    conv3: int  # 3x3/1 convolution ("#3x3"), the input of 3a


STEM = StemWidths(conv1=64, conv2=64, conv3=192)


class AuxHead(NamedTuple):
    """An auxiliary classifier as Section 5 describes it."""

    pool_kernel: int  # average pool 5x5 ...
    pool_stride: int  # ... stride 3: 14x14 -> 4x4 after 4a and 4d
    conv_channels: int  # 1x1 convolution with 128 filters, ReLU
    fc_features: int  # fully connected layer with 1024 units, ReLU
    dropout: float  # dropout with 70% ratio of dropped outputs
    loss_weight: float  # the aux losses are added to the total loss with weight 0.3


AUX = AuxHead(pool_kernel=5, pool_stride=3, conv_channels=128, fc_features=1024, dropout=0.7, loss_weight=0.3)
FINAL_DROPOUT = 0.4  # Table 1's "dropout (40%)" before the classifier


def input_channels(name: str) -> int:
    """Channels module `name` ("3a" ... "5b") receives in the paper's network: what the layer before it outputs."""
    names = list(TABLE1)
    index = names.index(name)
    return STEM.conv3 if index == 0 else TABLE1[names[index - 1]].out_channels


class PrintedRow(NamedTuple):
    """One row of Table 1 exactly as printed, named by the layer(s) of `GoogLeNet` it describes."""

    name: str  # our module name; "conv2+conv3" for the 3x3/1 convolution row (1x1 reduce, then 3x3)
    kind: str  # the "type" column
    patch: str  # "patch size/stride" ("" where the paper leaves it blank)
    output: tuple[int, int, int]  # "output size" as printed: H x W x C
    depth: int
    params_k: float | None = None  # "params" in K = 1024 (None where blank)
    ops_m: float | None = None  # "ops" (multiply-adds) in M = 10^6 (None where blank)

    @property
    def layers(self) -> list[str]:
        """The module names this row covers, e.g. ["conv2", "conv3"]."""
        return self.name.split("+")

    @property
    def shape(self) -> tuple[int, int, int]:
        """The output size in PyTorch's order (C, H, W), without the batch dimension."""
        h, w, c = self.output
        return c, h, w


# Every row of Table 1 as printed but the last (softmax, 1x1x1000, depth 0: here the softmax lives in the loss).
PRINTED: dict[str, PrintedRow] = {
    row.name: row
    for row in (
        PrintedRow("conv1", "convolution", "7x7/2", (112, 112, 64), 1, 2.7, 34),
        PrintedRow("maxpool1", "max pool", "3x3/2", (56, 56, 64), 0),
        PrintedRow("conv2+conv3", "convolution", "3x3/1", (56, 56, 192), 2, 112, 360),
        PrintedRow("maxpool2", "max pool", "3x3/2", (28, 28, 192), 0),
        PrintedRow("inception3a", "inception (3a)", "", (28, 28, 256), 2, 159, 128),
        PrintedRow("inception3b", "inception (3b)", "", (28, 28, 480), 2, 380, 304),
        PrintedRow("maxpool3", "max pool", "3x3/2", (14, 14, 480), 0),
        PrintedRow("inception4a", "inception (4a)", "", (14, 14, 512), 2, 364, 73),
        PrintedRow("inception4b", "inception (4b)", "", (14, 14, 512), 2, 437, 88),
        PrintedRow("inception4c", "inception (4c)", "", (14, 14, 512), 2, 463, 100),
        PrintedRow("inception4d", "inception (4d)", "", (14, 14, 528), 2, 580, 119),
        PrintedRow("inception4e", "inception (4e)", "", (14, 14, 832), 2, 840, 170),
        PrintedRow("maxpool4", "max pool", "3x3/2", (7, 7, 832), 0),
        PrintedRow("inception5a", "inception (5a)", "", (7, 7, 832), 2, 1072, 54),
        PrintedRow("inception5b", "inception (5b)", "", (7, 7, 1024), 2, 1388, 71),
        PrintedRow("avgpool", "avg pool", "7x7/1", (1, 1, 1024), 0),
        PrintedRow("dropout", "dropout (40%)", "", (1, 1, 1024), 0),
        PrintedRow("fc", "linear", "", (1, 1, 1000), 1, 1000, 1),
    )
}

# The rows with printed params and ops: {name: (params in K, ops in M)}.
PAPER_TABLE1: dict[str, tuple[float, float]] = {
    name: (row.params_k, row.ops_m) for name, row in PRINTED.items() if row.params_k is not None
}

__all__ = [
    "AUX",
    "FINAL_DROPOUT",
    "PAPER_TABLE1",
    "PRINTED",
    "STEM",
    "TABLE1",
    "AuxHead",
    "InceptionWidths",
    "PrintedRow",
    "StemWidths",
    "input_channels",
    "scaled",
]
