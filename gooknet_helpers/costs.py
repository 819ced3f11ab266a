"""Parameters and multiply-adds, counted by torchinfo and by hand, and Table 1 of the paper.

Counting rules worth knowing (torchinfo 1.8):
- a convolution's or linear layer's bias is counted, in parameters and in MACs
  (one add per output element), so torchinfo's MACs are weights x outputs + biases x outputs;
- batch norm is undercounted: its 2 x C affine parameters are counted as params, its
  MACs are reported as 2 x C per image, not per pixel; running statistics are buffers;
- pooling, ReLU, LRN and concatenation count as 0 MACs.
The paper's Table 1 counts weights only (no biases) and multiply-adds of convolutions and
the linear layer only; it prints parameters in K = 1024 and operations in M = 10^6.

A Table 1 row can be built three ways (`KINDS`); each name means one network, in every notebook:
- "naive": Figure 2(a) as drawn, the max pool passing all its input channels through;
- "naive-proj": naive with pool projection, Figure 2(a) plus a 1x1 after the pool, so it has
  Table 1's output widths; these are the modules of `GoogLeNet(block="naive")`;
- "inception": Figure 2(b), the module GoogLeNet uses.
and measured in two settings:
- in place (`module_in_place`, `table1_pairs`): fed what the real GoogLeNet feeds that row
  (3b gets 256x28x28). "Naive 3b" means this: `module_in_place("naive", "3b")`.
- stacked (`stack_table1`): each module fed the previous one's output. `stack_table1("naive")`
  is "the naive stack" of notebook 01, where the pass-through pools pile up channels
  (its 3b gets 416 channels, not 256).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import torch
from torch import nn

from .blocks import Inception, NaiveInception, naive_with_pool_proj
from .network import TORCHVISION, GoogLeNet
from .runtime import module_device
from .shapes import trace_shapes
from .table1 import PAPER_TABLE1, PRINTED, TABLE1, input_channels

if TYPE_CHECKING:
    from torchinfo.model_statistics import ModelStatistics

COLUMNS = ("kernel_size", "output_size", "num_params", "mult_adds")


class Cost(NamedTuple):
    """Parameters and multiply-adds of a module for one input image."""

    params: int
    macs: int


def summary(module: nn.Module, input_size: tuple[int, ...], depth: int = 3, **kwargs) -> ModelStatistics:
    """torchinfo's summary of `module` for one image of `input_size` (C, H, W), without printing.

    The device is passed explicitly: torchinfo would otherwise move a CPU model to CUDA.
    Print the result to see the table. (torchinfo is imported here, on first use: training from the command line
    loads no more than it needs.)
    """
    from torchinfo import summary as torchinfo_summary

    kwargs.setdefault("col_names", COLUMNS)
    kwargs.setdefault("row_settings", ("var_names",))
    return torchinfo_summary(
        module, input_size=(1, *input_size), depth=depth, device=module_device(module), verbose=0, **kwargs
    )


def measure(module: nn.Module, input_size: tuple[int, ...]) -> Cost:
    """Parameters and multiply-adds (torchinfo's rules, eval mode) for one image of `input_size`."""
    stats = summary(module, input_size)
    return Cost(stats.total_params, stats.total_mult_adds)


def weight_cost(module: nn.Module, input_size: tuple[int, ...]) -> Cost:
    """The paper's way of counting: conv and linear weights only, no biases, no batch norm."""
    stats = summary(module, input_size)
    params = macs = 0
    for layer in stats.summary_list:
        if isinstance(layer.module, (nn.Conv2d, nn.Linear)) and layer.executed:
            n = layer.module.weight.numel()
            params += n
            macs += n * math.prod(layer.output_size[2:])
    return Cost(params, macs)


def count_params(module: nn.Module | None) -> int:
    """Number of parameters (weights and biases) of a module; 0 for None."""
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def towards_torchvision() -> list[tuple[str, int, int]]:
    """(option, parameters without aux heads, with them), switching TORCHVISION's options on one at a time.

    The models are built on the meta device: shapes only, no memory, no initialisation.
    """
    rows, kwargs = [], {}
    for option in [None, *TORCHVISION]:
        if option is not None:
            kwargs[option] = TORCHVISION[option]
        with torch.device("meta"):
            plain, with_aux = GoogLeNet(aux_logits=False, **kwargs), GoogLeNet(**kwargs)
        label = "paper" if option is None else f"+ {option}={TORCHVISION[option]!r}"
        rows.append((label, count_params(plain), count_params(with_aux)))
    return rows


def conv_params(in_channels: int, out_channels: int, kernel_size: int, bias: bool = True) -> int:
    """Parameters of a k x k convolution: k*k*C_in*C_out weights (+ C_out biases)."""
    return kernel_size * kernel_size * in_channels * out_channels + (out_channels if bias else 0)


def conv_macs(in_channels: int, out_channels: int, kernel_size: int, out_size: int, bias: bool = True) -> int:
    """Multiply-adds of a k x k convolution with a square output of side `out_size`.

    Every output value needs k*k*C_in multiply-adds; torchinfo also counts the bias add.
    """
    return conv_params(in_channels, out_channels, kernel_size, bias) * out_size * out_size


def branch_costs(block: nn.Module, input_size: tuple[int, ...]) -> dict[str, Cost]:
    """Cost of each of the four branches of an Inception module (`branch1` ... `branch4`)."""
    return {name: measure(getattr(block, name), input_size) for name in ("branch1", "branch2", "branch3", "branch4")}


class Table1Row(NamedTuple):
    """One row of Table 1: the paper's printed values beside ours."""

    name: str
    output_shape: tuple[int, ...]
    paper_params_k: float
    weights: int  # conv + linear weights, as the paper counts
    params: int  # torchinfo, biases included
    paper_ops_m: float
    weight_macs: int  # multiply-adds of the weights, as the paper counts
    macs: int  # torchinfo, bias adds included

    @property
    def params_ratio(self) -> float:
        return self.weights / 1024 / self.paper_params_k

    @property
    def ops_ratio(self) -> float:
        return self.weight_macs / 1e6 / self.paper_ops_m

    @property
    def params_agree(self) -> bool:
        return agrees(self.weights / 1024, self.paper_params_k)

    @property
    def ops_agree(self) -> bool:
        return agrees(self.weight_macs / 1e6, self.paper_ops_m)


def agrees(ours: float, printed: float, tolerance: float = 0.02) -> bool:
    """True if `ours` rounds to the printed value, or is within `tolerance` of it (the paper's rounding)."""
    text = repr(printed)
    half_unit = 0.5 * 10 ** -(len(text.split(".")[1]) if "." in text else 0)
    return abs(ours - printed) <= max(half_unit, tolerance * printed)


def table1(model: nn.Module, size: int = 224) -> list[Table1Row]:
    """Table 1 recomputed from `model` (a GoogLeNet) at `size` x `size`, beside the paper's values."""
    layers = trace_shapes(model, size)
    inputs, outputs = {x.name: x.input for x in layers}, {x.name: x.output for x in layers}
    rows = []
    for name, (paper_k, paper_m) in PAPER_TABLE1.items():
        layers = PRINTED[name].layers  # "conv2+conv3" is one row of two layers
        module = nn.Sequential(*(getattr(model, layer) for layer in layers))
        in_size, out_size = inputs[layers[0]], outputs[layers[-1]]
        full, weights = measure(module, in_size), weight_cost(module, in_size)
        rows.append(Table1Row(name, out_size, paper_k, weights.params, full.params, paper_m, weights.macs, full.macs))
    return rows


def format_table1(rows: list[Table1Row]) -> str:
    """Table 1 as text; a printed value that disagrees with the arithmetic shows ours/paper."""

    def mark(agree: bool, ratio: float) -> str:
        return "ok" if agree else f"x{ratio:.2f}"

    lines = [
        f"{'layer':<12} {'output':>13} | {'paper K':>7} {'ours K':>7} {'':>5} | {'paper M':>7} {'ours M':>7} {'':>5}",
        "-" * 78,
    ]
    for r in rows:
        c, *hw = r.output_shape  # (C, H, W) printed as the paper does: H x W x C
        shape = "x".join(str(d) for d in (*hw, c))
        params = f"{r.paper_params_k:>7g} {r.weights / 1024:>7.1f} {mark(r.params_agree, r.params_ratio):>5}"
        ops = f"{r.paper_ops_m:>7g} {r.weight_macs / 1e6:>7.1f} {mark(r.ops_agree, r.ops_ratio):>5}"
        lines.append(f"{r.name:<12} {shape:>13} | {params} | {ops}")
    paper_k = sum(r.paper_params_k for r in rows)
    paper_m = sum(r.paper_ops_m for r in rows)
    ours_k = sum(r.weights for r in rows) / 1024
    ours_m = sum(r.weight_macs for r in rows) / 1e6
    lines += [
        "-" * 78,
        f"{'total':<12} {'':>13} | {paper_k:>7.0f} {ours_k:>7.0f} {'':>5} | {paper_m:>7.0f} {ours_m:>7.0f}",
    ]
    return "\n".join(lines)


# ---- Naive versus reduced modules, each Table 1 configuration (notebooks 01, 02 and 04) ----

KINDS = {
    "naive": "naive (Figure 2a, pass-through pool)",
    "naive-proj": "naive with pool projection (GoogLeNet(block='naive'))",
    "inception": "Inception (Figure 2b, 1x1 reductions)",
}


class ModuleCost(NamedTuple):
    """One Inception module measured for one image: its shapes and its cost (torchinfo, biases included)."""

    name: str
    in_channels: int
    size: int
    out_channels: int
    cost: Cost
    kind: str = ""

    @property
    def output(self) -> str:
        return f"{self.out_channels}x{self.size}x{self.size}"


def build_module(kind: str, in_channels: int, widths: tuple[int, ...]) -> nn.Module:
    """A module with the six Table 1 widths, built as `kind` (one of KINDS).

    "naive" uses only #1x1, #3x3 and #5x5 (its pool passes the input through); "naive-proj" adds the pool
    projection; "inception" uses all six.
    """
    ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj = widths
    if kind == "naive":
        return NaiveInception(in_channels, ch1x1, ch3x3, ch5x5)
    if kind == "naive-proj":
        return naive_with_pool_proj(in_channels, *widths)
    if kind == "inception":
        return Inception(in_channels, *widths)
    raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}, got {kind!r}")


def measure_module(kind: str, in_channels: int, size: int, widths: tuple[int, ...], name: str = "") -> ModuleCost:
    """Build a module (see build_module) and measure it on one in_channels x size x size input.

    The module lives on the meta device: torchinfo needs only shapes, so even very wide modules measure instantly.
    """
    with torch.device("meta"):
        module = build_module(kind, in_channels, widths)
    cost = measure(module, (in_channels, size, size))
    return ModuleCost(name, in_channels, size, module.out_channels, cost, kind)


def side(name: str) -> int:
    """Side of the feature maps module `name` ("3a" ... "5b") works on for a 224x224 input (Table 1)."""
    return PRINTED[f"inception{name}"].output[0]


def module_in_place(kind: str, name: str) -> ModuleCost:
    """Table 1 row `name` built as `kind` and fed what GoogLeNet feeds that module at 224x224 (3b: 256x28x28)."""
    return measure_module(kind, input_channels(name), side(name), TABLE1[name], name)


def stack_table1(kind: str) -> list[ModuleCost]:
    """The nine Table 1 modules built as `kind` and stacked at 224x224: each takes the previous one's output.

    The max pools between stages halve the size and keep the channels. With kind="naive" (the naive stack)
    every pass-through pool carries all channels into the next module; "naive-proj" and "inception" keep
    Table 1's widths, so their modules get the same inputs as in place.
    """
    rows, channels = [], input_channels("3a")
    for name, widths in TABLE1.items():
        row = measure_module(kind, channels, side(name), widths, name)
        rows.append(row)
        channels = row.out_channels
    return rows


def table1_pairs() -> list[tuple[ModuleCost, ModuleCost]]:
    """Each Table 1 row in place, built naive (pass-through pool) and as Inception: the same input for both."""
    return [(module_in_place("naive", name), module_in_place("inception", name)) for name in TABLE1]


def format_pairs(pairs: list[tuple[ModuleCost, ModuleCost]]) -> str:
    """A table of naive versus reduced modules: input, output channels, params, MACs, and the ratios."""
    lines = [
        f"{'module':<6} {'input':>10} | {'naive out':>9} {'params':>11} {'MACs':>14} | "
        f"{'reduced out':>11} {'params':>9} {'MACs':>12} | {'params x':>8} {'MACs x':>6}",
        "-" * 112,
    ]
    for naive, reduced in pairs:
        lines.append(
            f"{naive.name:<6} {f'{naive.in_channels}x{naive.size}x{naive.size}':>10} | "
            f"{naive.out_channels:>9,} {naive.cost.params:>11,} {naive.cost.macs:>14,} | "
            f"{reduced.out_channels:>11,} {reduced.cost.params:>9,} {reduced.cost.macs:>12,} | "
            f"{naive.cost.params / reduced.cost.params:>8.2f} {naive.cost.macs / reduced.cost.macs:>6.2f}"
        )
    naive_params, naive_macs = (sum(n.cost[i] for n, _ in pairs) for i in (0, 1))
    reduced_params, reduced_macs = (sum(r.cost[i] for _, r in pairs) for i in (0, 1))
    lines += [
        "-" * 112,
        f"{'total':<6} {'':>10} | {'':>9} {naive_params:>11,} {naive_macs:>14,} | "
        f"{'':>11} {reduced_params:>9,} {reduced_macs:>12,} | "
        f"{naive_params / reduced_params:>8.2f} {naive_macs / reduced_macs:>6.2f}",
    ]
    return "\n".join(lines)
