"""What came after Inception v1, built from the same blocks and measured with `costs` (notebook 05).

Szegedy et al., "Rethinking the Inception Architecture for Computer Vision" (2015), arXiv:1512.00567, the paper of
Inception v2 and v3: Section 3.1 (Figure 5) replaces every 5x5 convolution by two stacked 3x3 convolutions, and
Section 3.2 (Figure 6) replaces an n x n convolution by a 1 x n followed by an n x 1.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .blocks import BasicConv2d, Inception, check_channels, check_input
from .costs import Cost, measure, stack_table1
from .table1 import TABLE1

Kernel = tuple[int, int]  # (height, width)


def factorised_kernels(n: int, repeats: int, asymmetric: bool) -> list[Kernel]:
    """`repeats` stacked n x n kernels, each split into 1 x n then n x 1 when `asymmetric`."""
    one = [(1, n), (n, 1)] if asymmetric else [(n, n)]
    return one * repeats


def conv_chain(in_channels: int, mid_channels: int, out_channels: int, kernels: list[Kernel], bn: bool) -> list:
    """BasicConv2d blocks applied one after another with 'same' padding: the last makes `out_channels`, the ones
    before it `mid_channels`."""
    widths = [in_channels] + [mid_channels] * (len(kernels) - 1) + [out_channels]
    return [
        BasicConv2d(c_in, c_out, k, padding=(k[0] // 2, k[1] // 2), batch_norm=bn)
        for c_in, c_out, k in zip(widths[:-1], widths[1:], kernels, strict=True)
    ]


class FactorisedInception(nn.Module):
    """An Inception module of v2/v3 style, with the six widths of a Table 1 row (arguments as `Inception`).

    The 3x3 branch becomes a chain of `factorised_kernels(n, 1, asymmetric)`, the 5x5 branch a chain of
    `factorised_kernels(n, 2, asymmetric)`:
    - n=3, asymmetric=False: Figure 5 of arXiv:1512.00567, the 5x5 as two stacked 3x3 (same 5x5 window);
    - n=3, asymmetric=True: Figure 6 with n=3, every 3x3 as 1x3 then 3x1 (same windows again);
    - n=7: v3's 17x17 modules, whose branches see 7x7 and 13x13 windows.
    `mid_channels="reduce"` keeps the convolutions inside a chain at the reduced width (#3x3 reduce, #5x5 reduce),
    as torchvision's Inception3 does in its 17x17 modules; "out" gives them the branch's output width (its 35x35
    modules). The pool branch is v1's 3x3 max pool and 1x1 projection (v3 uses an average pool; torchinfo counts
    neither as multiply-adds).
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
        n: int = 3,
        asymmetric: bool = False,
        mid_channels: str = "reduce",
        batch_norm: bool = False,
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
        if mid_channels not in ("reduce", "out"):
            raise ValueError(f"mid_channels must be 'reduce' or 'out', got {mid_channels!r}")
        if n < 2 or n % 2 == 0:
            raise ValueError(f"n must be an odd kernel size of at least 3, got {n!r}")
        self.in_channels = in_channels
        bn = batch_norm
        mid3, mid5 = (ch3x3red, ch5x5red) if mid_channels == "reduce" else (ch3x3, ch5x5)
        self.branch1 = BasicConv2d(in_channels, ch1x1, 1, batch_norm=bn)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, 1, batch_norm=bn),
            *conv_chain(ch3x3red, mid3, ch3x3, factorised_kernels(n, 1, asymmetric), bn),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, 1, batch_norm=bn),
            *conv_chain(ch5x5red, mid5, ch5x5, factorised_kernels(n, 2, asymmetric), bn),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, 1, batch_norm=bn),
        )
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels, type(self).__name__)
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


# ---- One convolution against its factorisations, at equal widths ----


def window(kernels: list[Kernel]) -> Kernel:
    """(height, width) of the input window one output sees through stride-1 kernels applied in sequence."""
    return 1 + sum(k[0] - 1 for k in kernels), 1 + sum(k[1] - 1 for k in kernels)


def chain_macs(kernels: list[Kernel], channels: int, size: int) -> int:
    """Multiply-adds by hand: each kernel of a chain costs kh*kw*C*C per output position (no biases)."""
    return sum(kh * kw for kh, kw in kernels) * channels * channels * size * size


FACTORISATIONS: dict[str, list[Kernel]] = {
    "5x5": [(5, 5)],
    "two 3x3": [(3, 3), (3, 3)],
    "3x3": [(3, 3)],
    "1x3 then 3x1": [(1, 3), (3, 1)],
    "7x7": [(7, 7)],
    "1x7 then 7x1": [(1, 7), (7, 1)],
    "three 3x3": [(3, 3)] * 3,
}


class ChainCost(NamedTuple):
    name: str
    window: Kernel
    cost: Cost  # torchinfo (costs.measure) of the bias-free chain
    hand_macs: int  # chain_macs


def factorisation_costs(channels: int = 64, size: int = 17) -> list[ChainCost]:
    """Every chain of FACTORISATIONS as bias-free convolutions from `channels` to `channels` at size x size,
    measured with torchinfo and by hand. Equal widths throughout, as in Section 3.1 of arXiv:1512.00567."""
    rows = []
    for name, kernels in FACTORISATIONS.items():
        with torch.device("meta"):
            chain = nn.Sequential(
                *(nn.Conv2d(channels, channels, k, padding=(k[0] // 2, k[1] // 2), bias=False) for k in kernels)
            )
        cost = measure(chain, (channels, size, size))
        rows.append(ChainCost(name, window(kernels), cost, chain_macs(kernels, channels, size)))
    return rows


def format_factorisations(rows: list[ChainCost]) -> str:
    """The chains as a table; each factorisation's MACs relative to the single convolution above it."""
    lines = [f"{'chain':<14} {'window':>7} {'weights':>8} {'MACs':>11} {'by hand':>11} {'vs single':>9}", "-" * 66]
    single = None
    for row in rows:
        if len(FACTORISATIONS[row.name]) == 1:
            single = row
        ratio = "" if row is single else f"{row.cost.macs / single.cost.macs:.0%}"
        window_text = f"{row.window[0]}x{row.window[1]}"
        lines.append(
            f"{row.name:<14} {window_text:>7} {row.cost.params:>8,} {row.cost.macs:>11,} {row.hand_macs:>11,} "
            f"{ratio:>9}"
        )
    return "\n".join(lines)


# ---- Whole modules: v1 against v2/v3-style, same input and output channels ----

VARIANTS: dict[str, dict] = {
    "v1 (Figure 2b)": {},
    "two 3x3 (v3 Figure 5)": dict(n=3),
    "1x3, 3x1 (v3 Figure 6)": dict(n=3, asymmetric=True),
}


def build_variant(variant: str, in_channels: int, widths: tuple[int, ...]) -> nn.Module:
    """The module of VARIANTS[variant] with the six widths of a Table 1 row."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {list(VARIANTS)}, got {variant!r}")
    kwargs = VARIANTS[variant]
    return FactorisedInception(in_channels, *widths, **kwargs) if kwargs else Inception(in_channels, *widths)


class VariantRow(NamedTuple):
    """One Table 1 module measured as each variant, on the input the real network gives it (224x224 image)."""

    name: str
    in_channels: int
    size: int
    out_channels: int
    costs: dict[str, Cost]


def variant_table() -> list[VariantRow]:
    """All nine Table 1 modules built as each of VARIANTS (meta device, torchinfo counts with biases)."""
    rows = []
    for stacked in stack_table1("inception"):
        costs = {}
        for variant in VARIANTS:
            with torch.device("meta"):
                module = build_variant(variant, stacked.in_channels, TABLE1[stacked.name])
            costs[variant] = measure(module, (stacked.in_channels, stacked.size, stacked.size))
        rows.append(VariantRow(stacked.name, stacked.in_channels, stacked.size, module.out_channels, costs))
    return rows


def format_variants(rows: list[VariantRow]) -> str:
    """Parameters and MACs per module and variant, each relative to v1, and the totals."""
    names = list(VARIANTS)
    header = f"{'module':<6} {'input':>10} {'out':>5} | " + " | ".join(f"{n:^29}" for n in names)
    sub = f"{'':<6} {'':>10} {'':>5} | " + " | ".join(f"{'params':>9} {'MACs':>13} {'':>5}" for _ in names)
    lines = [header, sub, "-" * len(header)]

    def cells(costs: dict[str, Cost], base: Cost) -> str:
        parts = []
        for n in names:
            ratio = "" if n == names[0] else f"{costs[n].macs / base.macs:.0%}"
            parts.append(f"{costs[n].params:>9,} {costs[n].macs:>13,} {ratio:>5}")
        return " | ".join(parts)

    for row in rows:
        shape = f"{row.in_channels}x{row.size}x{row.size}"
        lines.append(f"{row.name:<6} {shape:>10} {row.out_channels:>5} | {cells(row.costs, row.costs[names[0]])}")
    totals = {n: Cost(*(sum(r.costs[n][i] for r in rows) for i in (0, 1))) for n in names}
    lines += ["-" * len(header), f"{'total':<6} {'':>10} {'':>5} | {cells(totals, totals[names[0]])}"]
    return "\n".join(lines)
