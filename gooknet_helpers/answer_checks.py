"""Answer checks for the notebooks' numeric exercises: `nbXX_name.check(answer)` says whether a number is right.

A checker shows the working (and so the answer) only when asked with `show=True`, so a classroom can try first.
Expected values are computed from the package, never typed in. (A learner's own nn.Module is checked by
`module_checks.check_module`.)
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from dataclasses import dataclass

from .blocks import Inception, NaiveInception
from .costs import branch_costs, conv_macs, conv_params, measure, measure_module, stack_table1
from .table1 import TABLE1, input_channels

EXAMPLE = 'Type a number, e.g. check(12345) or check("12,345").'


def read_answer(answer: object) -> float | int | None:
    """`answer` as a number: an int or float, a NumPy number, a one-element tensor or array, or a string such as
    "442,560", "0.28" or "1e6" (commas, underscores and spaces are ignored); None stays None (the question is
    asked). Anything else, or a number that is not finite, raises ValueError whose text is the sentence to print."""
    if answer is None:
        return None
    if isinstance(answer, bool):
        raise ValueError(f"{answer} is a truth value, not a number. {EXAMPLE}")
    if isinstance(answer, str):
        text = answer.strip().replace(",", "").replace("_", "").replace(" ", "")
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"Not a number: {answer!r}. {EXAMPLE}") from None
    elif isinstance(answer, numbers.Real):
        value = float(answer)
    elif callable(getattr(answer, "item", None)):  # a tensor or NumPy array of one number
        try:
            value = float(answer.item())
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"check() takes one number, not a {type(answer).__name__} of several. {EXAMPLE}") from None
    else:
        raise ValueError(f"check() takes one number, not a {type(answer).__name__} ({answer!r:.60}). {EXAMPLE}")
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{answer!r} is not a finite number, so it cannot be the answer. {EXAMPLE}")
    exact = isinstance(answer, numbers.Integral) or (isinstance(answer, str) and not any(c in text for c in ".eE"))
    return int(value) if exact and value.is_integer() else value


def read_show(show: object) -> bool:
    """`show` if it is True or False; else ValueError whose text is the sentence to print (a string such as "no"
    would otherwise count as yes, and print the answer)."""
    if not isinstance(show, bool):
        raise ValueError(f"show must be True or False, not {show!r}: check(answer, show=True) prints the working.")
    return show


@dataclass(frozen=True)
class Exercise:
    """A numeric question whose expected answer and working are computed on demand."""

    question: str
    expected: Callable[[], float]
    working: Callable[[], str]
    rel_tolerance: float = 0.0
    # Likely wrong answers: {value: "Did you ...? why"}; an answer within the tolerance of one is told what it
    # probably counted, and by how much it is off.
    mistakes: Callable[[], dict[float, str]] = dict

    def check(self, answer: float | str | None = None, show: bool = False) -> bool:
        """Print whether `answer` is right (and, if not, whether it is too high or too low); with show=True also
        print the working. A string such as "442,560" is read as a number (`read_answer`); anything that is not one
        number, or a `show` that is not True or False, gets a sentence and False."""
        try:
            show, answer = read_show(show), read_answer(answer)
        except ValueError as error:
            print(error)
            return False
        expected = self.expected()
        correct = answer is not None and abs(answer - expected) <= self.rel_tolerance * abs(expected)
        if answer is None:
            print(f"Q: {self.question}\n{self.precision()} Type your number, e.g. check(12345).")
        elif correct:
            print(f"Correct: {answer:,}.")
        else:
            print(self.not_quite(answer, expected))
        if show:
            print(self.working())
        return correct

    def not_quite(self, answer: float, expected: float) -> str:
        """What a wrong answer is told: what it probably counted, if it is a likely mistake; else too high or too
        low (with the factor, when it is 2 or more), never the answer."""
        why = next((text for value, text in self.mistakes().items() if _close(answer, value, self.rel_tolerance)), None)
        if why:
            return f"Not quite: {answer:,} is {off_by(answer, expected)}. {why} Try again, or call with show=True."
        side = "too high" if answer > expected else "too low"
        ratio = answer / expected if expected else 0
        factor = f" (about x{ratio:.2g} the answer)" if ratio >= 2 or 0 < ratio <= 0.5 else ""
        return f"Not quite: {answer:,} is {side}{factor}. {self.precision()} Try again, or call with show=True."

    def precision(self) -> str:
        """How close an answer must be."""
        if self.rel_tolerance == 0:
            return "The answer is an exact count."
        return f"Answers within {self.rel_tolerance * 100:.2g}% of it count as right."


def off_by(answer: float, expected: float) -> str:
    """How far a recognised wrong answer is from the right one: "off by 192 (too low)", "off by a factor of 2"."""
    side = "too high" if answer > expected else "too low"
    if expected and answer / expected > 0:
        factor = max(answer / expected, expected / answer)
        if factor >= 1.5 and abs(factor - round(factor)) <= 1e-6 * factor:
            return f"off by a factor of {round(factor):,} ({side})"
    difference = abs(answer - expected)
    if difference == int(difference):
        return f"off by {int(difference):,} ({side})"
    return f"off by {difference:.3g} ({side})"


# ---- Notebook 01: naive Inception module ----


def _naive(in_channels: int, name: str) -> NaiveInception:
    """The naive module (pass-through pool) with the #1x1, #3x3 and #5x5 widths of Table 1 row `name`."""
    row = TABLE1[name]
    return NaiveInception(in_channels, row.ch1x1, row.ch3x3, row.ch5x5)


nb01_macs_5x5_3b = Exercise(
    "In the real network, 3b gets 256 channels at 28x28 and its 5x5 branch has 96 filters. Built naive (no "
    "reduction), how many multiply-adds does that 5x5 branch cost for one image, bias adds included as torchinfo does?",
    expected=lambda: measure(_naive(256, "3b").branch3, (256, 28, 28)).macs,
    working=lambda: f"(5*5*256*96 weights + 96 biases) * 28*28 outputs per filter = {conv_macs(256, 96, 5, 28):,}",
    mistakes=lambda: {
        conv_macs(256, 96, 5, 28, bias=False): "Did you leave out the bias adds? The question counts them, as "
        "torchinfo does: one per filter and output position, 96 * 28*28.",
        2 * conv_macs(256, 96, 5, 28): "Did you count FLOPs, a multiply and an add each? A multiply-add counts once.",
        2 * conv_macs(256, 96, 5, 28, bias=False): "Did you count FLOPs (a multiply and an add each) and leave out "
        "the biases? A multiply-add counts once, and the bias adds count too.",
        conv_params(256, 96, 5): "Did you count the parameters? Each weight is used once per output position: "
        "multiply by the 28*28 positions of the output.",
        conv_params(256, 96, 5) * 32 * 32: "Did you count the positions of the padded 32x32 input? The products are "
        "counted per output position, and the output stays 28x28.",
        conv_params(256, 96, 5) * 24 * 24: "Did you leave out the padding? With padding 2 the 5x5 keeps 28x28.",
        conv_macs(192, 96, 5, 28): "Did you take 3a's input, 192 channels? 3b gets 256: what 3a concatenates.",
        conv_macs(256, 32, 1, 28) + conv_macs(32, 96, 5, 28): "Did you count the real 3b's branch, with its 1x1 "
        "reduction to 32? Built naive, the 5x5 reads all 256 input channels.",
    },
)

nb01_params_3x3_3b = Exercise(
    "In the real network, 3b gets 256 channels at 28x28 and its 3x3 branch has 192 filters. Built naive (no "
    "reduction), how many parameters (weights and biases) has that 3x3 branch?",
    expected=lambda: measure(_naive(256, "3b").branch2, (256, 28, 28)).params,
    working=lambda: f"3*3*256*192 weights + 192 biases = {conv_params(256, 192, 3):,}",
    mistakes=lambda: {
        conv_params(256, 192, 3, bias=False): "Did you leave out the biases? Each of the 192 filters has one.",
        conv_params(256, 192, 3, bias=False) + 256: "Did you give each input channel a bias? There is one per filter "
        "(output channel): 192.",
        conv_params(256, 192, 1): "Did you count a 1x1 kernel? A 3x3 filter has 3*3 weights for each input channel.",
        conv_params(192, 192, 3): "Did you take 3a's input, 192 channels? 3b gets 256: what 3a concatenates.",
        conv_macs(256, 192, 3, 28): "Did you count multiply-adds? The question asks for parameters: each weight "
        "counts once, not once per output position.",
        conv_params(256, 128, 1) + conv_params(128, 192, 3): "Did you count the real 3b's branch, with its 1x1 "
        "reduction to 128? Built naive, the 3x3 reads all 256 input channels.",
    },
)


@functools.cache
def _tenth_naive() -> tuple[int, int]:
    """Channels into and out of a naive module with 5b's widths put on top of notebook 01's naive stack."""
    last = stack_table1("naive")[-1]
    return last.out_channels, measure_module("naive", last.out_channels, last.size, TABLE1["5b"]).out_channels


nb01_channels_tenth = Exercise(
    "Say the naive stack of section 4 went on with a tenth module with 5b's widths (#1x1 384, #3x3 384, #5x5 128, "
    "pass-through pool). How many channels would that module output?",
    expected=lambda: _tenth_naive()[1],
    working=lambda: (
        f"the naive 5b outputs {_tenth_naive()[0]:,}; the pool passes all of them through and the convolutions add "
        f"384 + 384 + 128: {_tenth_naive()[1]:,}"
    ),
    mistakes=lambda: {
        384 + 384 + 128: "Did you leave out the pool branch's channels? In the naive module the max pool passes all "
        "of its input channels through.",
        _tenth_naive()[0]: "Did you give the tenth module's input, what the naive 5b makes? Its three convolutions "
        "add their channels to what the pool passes through.",
        TABLE1["5b"].out_channels: "Did you take the real 5b, with its pool projection to 128? The naive module has "
        "no projection: its pool passes its whole input through.",
    },
)

# ---- Notebook 02: 1x1 bottlenecks ----
_IN_4E = input_channels("4e")  # 4e's input: the channels 4d concatenates


def _reduced_5x5_macs(reduce: int) -> int:
    """Weights-only multiply-adds of 3a's 5x5 branch (192 -> 32 at 28x28) through a 1x1 reduction to `reduce`."""
    return conv_macs(192, reduce, 1, 28, bias=False) + conv_macs(reduce, 32, 5, 28, bias=False)


nb02_params_4e_5x5 = Exercise(
    f"Module 4e gets {_IN_4E} channels at 14x14. How many parameters (weights and biases) has its 5x5 branch: "
    "the 1x1 reduction to 32 channels, then the 5x5 convolution to 128?",
    expected=lambda: branch_costs(Inception(_IN_4E, *TABLE1["4e"]), (_IN_4E, 14, 14))["branch3"].params,
    working=lambda: (
        f"1x1: {_IN_4E}*32 + 32 = {conv_params(_IN_4E, 32, 1):,}; 5x5: 5*5*32*128 + 128 = "
        f"{conv_params(32, 128, 5):,}; total {conv_params(_IN_4E, 32, 1) + conv_params(32, 128, 5):,}"
    ),
    mistakes=lambda: {
        conv_params(_IN_4E, 32, 1, bias=False) + conv_params(32, 128, 5, bias=False): "Did you leave out the "
        "biases? Each filter has one: 32 in the reduction, 128 in the 5x5.",
        conv_params(32, 128, 5): "Did you count the 5x5 convolution only? The 1x1 reduction before it has "
        "parameters too.",
        conv_params(_IN_4E, 32, 1): "Did you count the 1x1 reduction only? The 5x5 convolution after it has "
        "parameters too.",
        conv_params(_IN_4E, 128, 5): f"Did you count one 5x5 straight from the {_IN_4E} input channels? The branch "
        "reduces them to 32 first, and the 5x5 reads those 32.",
        conv_params(_IN_4E, 32, 1) + conv_params(_IN_4E, 128, 5): f"Did you let the 5x5 read all {_IN_4E} input "
        "channels? It reads the 32 that the reduction makes.",
        conv_params(input_channels("4d"), 32, 1) + conv_params(32, 128, 5): f"Did you take 4d's input "
        f"({input_channels('4d')} channels)? 4e gets {_IN_4E}, what 4d concatenates.",
        (conv_params(_IN_4E, 32, 1) + conv_params(32, 128, 5)) * 14 * 14: "Did you count multiply-adds? The "
        "question asks for parameters: each weight counts once, not once per output position.",
    },
)

_IN_5B = input_channels("5b")  # 5b's input: the channels 5a concatenates


def _saving_5x5_5b() -> tuple[int, int]:
    """Weights-only multiply-adds of 5b's 5x5 branch at 7x7: direct, and through its 1x1 reduction."""
    reduce, out = TABLE1["5b"].ch5x5red, TABLE1["5b"].ch5x5
    direct = conv_macs(_IN_5B, out, 5, 7, bias=False)
    return direct, conv_macs(_IN_5B, reduce, 1, 7, bias=False) + conv_macs(reduce, out, 5, 7, bias=False)


nb02_saving_5x5_5b = Exercise(
    f"Module 5b gets {_IN_5B} channels at 7x7; its 5x5 branch reduces them to {TABLE1['5b'].ch5x5red} with a "
    f"1x1 convolution, then makes {TABLE1['5b'].ch5x5} channels. By what factor does the reduction cut the "
    "multiply-adds of that branch, compared with one 5x5 convolution straight from the input (weights only)? "
    "Two decimals are enough.",
    expected=lambda: _saving_5x5_5b()[0] / _saving_5x5_5b()[1],
    working=lambda: (
        f"direct 5*5*{_IN_5B}*128*7*7 = {_saving_5x5_5b()[0]:,}; reduced ({_IN_5B}*48 + 5*5*48*128)*7*7 = "
        f"{_saving_5x5_5b()[1]:,}; ratio {_saving_5x5_5b()[0] / _saving_5x5_5b()[1]:.2f} (the 7x7 cancels out)"
    ),
    rel_tolerance=0.001,
    mistakes=lambda: {
        _saving_5x5_5b()[1] / _saving_5x5_5b()[0]: "Did you divide the reduced cost by the direct one? The factor "
        "the reduction cuts by is direct / reduced.",
        1 - _saving_5x5_5b()[1] / _saving_5x5_5b()[0]: "Did you give the share saved? The question asks for the "
        "factor: direct / reduced.",
        _saving_5x5_5b()[0] / conv_macs(TABLE1["5b"].ch5x5red, TABLE1["5b"].ch5x5, 5, 7, bias=False): "Did you "
        f"leave out the 1x1 reduction's own cost ({_IN_5B}*48 per position)? The reduced branch runs both "
        "convolutions.",
        _saving_5x5_5b()[0] / conv_macs(_IN_5B, TABLE1["5b"].ch5x5red, 1, 7, bias=False): "Did you leave out the "
        "5x5's cost in the reduced branch? It still runs, on 48 channels.",
    },
)

nb02_break_even = Exercise(
    "The 5x5 branch of 3a from section 2 (192 -> 32 at 28x28, weights only). What is the widest 1x1 reduction "
    "that still "
    "costs fewer multiply-adds than the direct 5x5 convolution?",
    expected=lambda: max(r for r in range(1, 193) if _reduced_5x5_macs(r) < conv_macs(192, 32, 5, 28, bias=False)),
    working=lambda: (
        f"reduced: (192 + 5*5*32) * r * 28*28 = {192 + 5 * 5 * 32} * r * 784; direct: 5*5*192*32 * 784 "
        f"= {5 * 5 * 192 * 32:,} * 784; so r < {5 * 5 * 192 * 32 / (192 + 5 * 5 * 32):.1f}, "
        f"the widest is r = {5 * 5 * 192 * 32 // (192 + 5 * 5 * 32)}"
    ),
    mistakes=lambda: {
        155: "Did you round the break-even width up? At r = 155 the reduced branch already costs more than the "
        "direct 5x5; the widest that costs fewer is below it.",
        191: "Did you compare the 5x5 convolutions only? The 1x1 reduction costs 192*r multiply-adds per position too.",
    },
)

# ---- Notebook 03: the full network ----
from .blocks import InceptionAux
from .costs import count_params
from .network import CIFAR, TORCHVISION, GoogLeNet
from .shapes import forward_order, receptive_fields


def _field_after(name: str, **kwargs) -> int:
    """Theoretical receptive field after layer `name` of a GoogLeNet built with `kwargs`."""
    return _fields(tuple(sorted(kwargs.items())))[name]


@functools.cache  # building the network takes seconds; the checkers ask for the same few many times
def _fields(options: tuple) -> dict[str, int]:
    return {f.name: f.size for f in receptive_fields(GoogLeNet(aux_logits=False, **dict(options)))}


def _side_after(name: str, size: int) -> int:
    """Height (= width) of layer `name`'s output for a size x size input to the paper's network."""
    return _sides(size)[name]


@functools.cache
def _sides(size: int) -> dict[str, int]:
    layers = forward_order(GoogLeNet(aux_logits=False), size)
    return {layer: shape[1] for layer, shape in layers if len(shape) == 3}  # maps, not the flat head's vectors


nb03_field_3b_cifar = Exercise(
    "Notebook 04 trains on 32x32 images with GoogLeNet(**CIFAR): its stem is a 3x3 convolution with stride 1 "
    "(no 7x7/2 conv, no first max pool), then conv2, conv3 and maxpool2 as before. What is the theoretical "
    "receptive field (in input pixels) of one unit after its inception3b?",
    expected=lambda: _field_after("inception3b", **CIFAR),
    working=lambda: (
        "conv1 3x3/1: 3 px, step 1; conv2 1x1: 3; conv3 3x3: 3 + 2 = 5; maxpool2 3x3/2: 5 + 2 = 7, step 2; "
        f"3a and 3b each add (5-1)*2 = 8 (their 5x5 branch): 7 + 8 + 8 = {_field_after('inception3b', **CIFAR)} "
        "of the 32 pixels"
    ),
    mistakes=lambda: {
        _field_after("inception3b"): "Did you use the paper's stem (7x7/2 convolution, 3x3/2 max pool)? "
        "GoogLeNet(**CIFAR) starts with a 3x3 convolution with stride 1 and has no first max pool.",
        _field_after("inception3b", **{**CIFAR, "branch3_kernel": 3}): "Did you add (3-1) * 2 = 4 per module, or "
        "keep a step of 1 after maxpool2? Each module's widest window is its 5x5 branch, and after the stride-2 "
        "max pool one step is 2 pixels: each module adds (5-1) * 2 = 8.",
        _field_after("inception3b", **CIFAR) - 2: "Did you leave out maxpool2's own 3x3 window? Before it doubles "
        "the step it adds 2 pixels.",
        _field_after("inception3b", **CIFAR) - 10: "Did you leave out maxpool2? It adds 2 pixels and doubles the "
        "step, so each module then adds 8, not 4.",
    },
)

nb03_field_5b_torchvision = Exercise(
    "torchvision's variant has a 3x3 where the paper has 5x5 in every module's third branch. "
    "What is the receptive field after its inception5b? (The paper's network reaches 715.)",
    expected=lambda: _field_after("inception5b", **TORCHVISION),
    working=lambda: (
        "the widest branch is now 3x3 (or the 3x3 max pool), so each module adds 2 steps instead of 4: "
        "2*8 twice in stage 3, 2*16 five times in stage 4, 2*32 twice in stage 5; the 2x2 max pool before stage 5 "
        f"adds 1*16 instead of 2*16: {_field_after('inception5b', **TORCHVISION)}"
    ),
    mistakes=lambda: {
        _field_after("inception5b"): "Did you give the paper's network? torchvision's third branch is a 3x3.",
        _field_after("inception5b", **{**TORCHVISION, "pool4_kernel": 3}): "Did you count the max pool before stage "
        "5 as 3x3? torchvision's is 2x2: it adds 1 step of 16 pixels, not 2.",
        _field_after("inception5b", **{**TORCHVISION, "branch3_kernel": 5}): "Did you keep the 5x5 branches? "
        "torchvision's third branch is a 3x3 in every module.",
    },
)

nb03_aux_params_cifar = Exercise(
    "How many parameters (weights and biases) has the first auxiliary head (after 4a, 512 channels in) "
    "when the network is built for the 10 classes of CIFAR-10?",
    expected=lambda: count_params(InceptionAux(512, 10)),
    working=lambda: (
        f"1x1 conv 512*128 + 128 = {512 * 128 + 128:,}; fc1 2048*1024 + 1024 = {2048 * 1024 + 1024:,}; "
        f"fc2 1024*10 + 10 = {1024 * 10 + 10:,}; total {count_params(InceptionAux(512, 10)):,}"
    ),
    mistakes=lambda: {
        count_params(InceptionAux(512, 1000)): "Did you keep ImageNet's 1,000 classes? Built for CIFAR-10, fc2 "
        "has 10 outputs.",
        512 * 128 + 2048 * 1024 + 1024 * 10: "Did you leave out the biases? Each filter and each output of a fully "
        "connected layer has one: 128 + 1,024 + 10.",
        count_params(InceptionAux(528, 10)): "Did you take the second head's input, 4d's 528 channels? The first "
        "head sits after 4a: 512.",
        512 * 128 + 128 + 128 * 1024 + 1024 + 1024 * 10 + 10: "Did you give fc1 128 inputs? It reads the whole "
        "4x4 map of 128 channels, flattened: 2,048.",
        512 * 128 + 128 + 128 * 14 * 14 * 1024 + 1024 + 1024 * 10 + 10: "Did you size fc1 for the 14x14 map? The "
        "5x5/3 average pool makes it 4x4 first: 128 x 4 x 4 = 2,048 inputs.",
        2048 * 1024 + 1024 + 1024 * 10 + 10: "Did you leave out the 1x1 convolution (512 -> 128 channels)? It has "
        "512*128 weights and 128 biases.",
    },
)

nb03_side_320 = Exercise(
    "Feed the paper's network a 320x320 image. What is the height (= width) of inception4e's output?",
    expected=lambda: _side_after("inception4e", 320),
    working=lambda: (
        "conv1 /2 -> 160; maxpool1 (3x3/2, ceil) -> 80; maxpool2 -> 40; maxpool3 -> "
        f"{_side_after('inception4e', 320)}; stage 4 keeps that size"
    ),
    mistakes=lambda: {
        _side_after("inception4e", 224): "Did you use Table 1's 224x224 input? The question feeds 320x320, so "
        "every map is larger.",
        _side_after("inception5b", 320): "Did you halve once more? maxpool4 comes after 4e, before stage 5.",
        _side_after("inception3b", 320): "Did you stop at stage 3's size? maxpool3 halves the map before stage 4.",
    },
)

# ---- Notebook 04: training ----
import math

import torch

from .config import TrainConfig, one_cycle
from .data import crop_flip, steps_per_epoch


def _distinct_crops(padding: int = 4) -> int:
    """How many different images random_crop_flip can make from one (random) 32x32 image."""
    image = torch.randint(1, 256, (1, 3, 32, 32), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    offsets = range(2 * padding + 1)
    views = {
        crop_flip(image, torch.tensor([t]), torch.tensor([left]), torch.tensor([f]), padding).numpy().tobytes()
        for t in offsets
        for left in offsets
        for f in (False, True)
    }
    return len(views)


nb04_steps = Exercise(
    f"The default recipe trains {TrainConfig().epochs} epochs on CIFAR-10's 50,000 training images in batches of "
    f"{TrainConfig().batch_size}, dropping each epoch's last partial batch. How many optimizer steps is that?",
    expected=lambda: TrainConfig().total_steps(50_000),
    working=lambda: (
        f"50,000 // {TrainConfig().batch_size} = {steps_per_epoch(50_000, TrainConfig().batch_size)} steps per epoch, "
        f"x {TrainConfig().epochs} = {TrainConfig().total_steps(50_000):,}"
    ),
    mistakes=lambda: {
        TrainConfig().epochs * -(-50_000 // TrainConfig().batch_size): "Did you keep each epoch's last partial "
        "batch? It is dropped: 50,000 // batch size steps per epoch.",
        steps_per_epoch(50_000, TrainConfig().batch_size): f"Did you count one epoch? The recipe trains "
        f"{TrainConfig().epochs}.",
        TrainConfig().epochs * 50_000: f"Did you count images? A step takes one batch of {TrainConfig().batch_size}.",
    },
)

nb04_crops = Exercise(
    "Random crop with 4 pixels of padding and a random horizontal flip: how many different 32x32 images can one "
    "training image become?",
    expected=_distinct_crops,
    working=lambda: f"9 vertical x 9 horizontal offsets x 2 (flipped or not) = {_distinct_crops()}",
    mistakes=lambda: {
        81: "Did you leave out the flip? Each crop can be flipped or not: x2.",
        128: "Did you count 8 offsets per direction? With 4 pixels of padding on each side the crop can start at "
        "0, 1, ..., 8: 9 offsets.",
        64: "Did you count 8 offsets per direction and leave out the flip? The crop can start at 0, 1, ..., 8 (9 "
        "offsets), and each crop can be flipped or not.",
        18: "Did you move the crop in one direction only? It moves vertically and horizontally: 9 x 9 offsets.",
    },
)


def _lr_at_1000() -> tuple[float, str]:
    """The default schedule's learning rate at step 1000, and how to get it."""
    config = TrainConfig()
    total = config.total_steps(50_000)
    warmup = round(config.warmup * total)
    lr = config.lr * one_cycle(1000, total, config.warmup)
    return lr, f"warm-up ends after {warmup} steps; then 0.4 x ({total} - 1000) / ({total} - {warmup} + 1) = {lr:.4f}"


def _lr_mistakes() -> dict[float, str]:
    """Learning rates at step 1000 that a likely misreading of the schedule gives."""
    config = TrainConfig()
    total = config.total_steps(50_000)
    warmup = round(config.warmup * total)
    falling = (1000 - warmup) / (total - warmup)
    return {
        config.lr: f"Did you give the peak? The warm-up ends after {warmup} steps, so at step 1000 the rate is "
        "already falling.",
        config.lr * (1 - 1000 / total): f"Did you let the rate fall over all {total} steps? It falls over the steps "
        f"after the warm-up: 0.4 x (total - step) / (total - {warmup} + 1).",
        config.lr * (1 + math.cos(math.pi * falling)) / 2: "Did you use a cosine fall, as PyTorch's OneCycleLR "
        "does? This schedule falls linearly.",
        config.lr * 1001 / warmup: "Did you go on with the warm-up's formula? The warm-up rises to the peak and "
        f"ends after {warmup} steps; then the rate falls.",
    }


nb04_lr = Exercise(
    "With the default one-cycle schedule (peak 0.4, 20% warm-up, the step count of the first exercise), what is the "
    "learning rate at step 1000 (counting from 0)? Three significant digits are enough.",
    expected=lambda: _lr_at_1000()[0],
    working=lambda: _lr_at_1000()[1],
    rel_tolerance=0.005,
    mistakes=_lr_mistakes,
)

# ---- Notebook 05: what the trained network learned, and what came next ----
import contextlib
import functools

from .analysis import switch_off
from .data import normalize
from .later import FACTORISATIONS, chain_macs


def _close(answer: float, value: float, rel_tolerance: float) -> bool:
    return abs(answer - value) <= max(rel_tolerance * abs(value), 1e-9 * max(1.0, abs(value)))


@dataclass(frozen=True)
class ExplainedExercise(Exercise):
    """An Exercise that recognises likely wrong answers and says what each one probably counted; any other wrong
    answer is told whether it is too high or too low, never what the answer is."""

    mistakes: Callable[[], dict[float, str]] = dict

    def check(self, answer: float | str | None = None, show: bool = False) -> bool:
        try:  # "0.28", "442,560": read as Exercise.check reads them
            show, answer = read_show(show), read_answer(answer)
        except ValueError as error:
            print(error)
            return False
        expected = self.expected()
        if answer is None or _close(answer, expected, self.rel_tolerance):
            return super().check(answer, show)
        why = next((text for value, text in self.mistakes().items() if _close(answer, value, self.rel_tolerance)), None)
        print(f"Not quite: {answer:,} is not it. {why or ('Too high.' if answer > expected else 'Too low.')}")
        print("Try again, or call with show=True for the working.")
        if show:
            print(self.working())
        return False


def _taps(name: str) -> int:
    """Multiply-adds per output position and per pair of channels of a chain of FACTORISATIONS."""
    return chain_macs(FACTORISATIONS[name], 1, 1)


nb05_two_3x3 = ExplainedExercise(
    "Inception v3 replaces a 5x5 convolution by two stacked 3x3 convolutions. With the same number of channels "
    "everywhere (in, between, out) and the same map, what fraction of the multiply-adds does that save? Answer as a "
    "fraction, e.g. 0.5 for half.",
    expected=lambda: 1 - _taps("two 3x3") / _taps("5x5"),
    working=lambda: (
        f"per output position and pair of channels: the 5x5 costs {_taps('5x5')} multiply-adds, the two 3x3 "
        f"{_taps('3x3')} + {_taps('3x3')} = {_taps('two 3x3')}; saved 1 - {_taps('two 3x3')}/{_taps('5x5')} = "
        f"{1 - _taps('two 3x3') / _taps('5x5'):.2f} (Section 3.1 of arXiv:1512.00567)"
    ),
    rel_tolerance=0.02,
    mistakes=lambda: {
        _taps("two 3x3") / _taps("5x5"): "That is what the two 3x3 still cost, as a fraction of the 5x5; the "
        "question asks what is saved.",
        1 - _taps("3x3") / _taps("5x5"): "That counts one 3x3; the 5x5 becomes two of them, one on top of the other.",
        _taps("3x3") / _taps("5x5"): "That compares one 3x3 with the 5x5; there are two, and the question asks what "
        "is saved.",
    },
)

_V3 = dict(channels=192, size=17)  # a 7x7 of v3's 17x17 modules, 192 channels in, between and out


nb05_asymmetric = ExplainedExercise(
    f"Inception v3 factorises the 7x7 convolutions of its 17x17 modules into a 1x7 followed by a 7x1. With "
    f"{_V3['channels']} channels in, between and out, on a {_V3['size']}x{_V3['size']} map with 'same' padding and "
    "no biases, how many multiply-adds does the factorised pair cost for one image?",
    expected=lambda: chain_macs(FACTORISATIONS["1x7 then 7x1"], **_V3),
    working=lambda: (
        f"(1*7 + 7*1) * 192 * 192 * 17 * 17 = {chain_macs(FACTORISATIONS['1x7 then 7x1'], **_V3):,}, against "
        f"7*7 * 192 * 192 * 17 * 17 = {chain_macs(FACTORISATIONS['7x7'], **_V3):,} for the 7x7: 14/49, 29%"
    ),
    mistakes=lambda: {
        chain_macs(FACTORISATIONS["7x7"], **_V3): "That is the 7x7 convolution before it is factorised.",
        chain_macs([(1, 7)], **_V3): "That is one of the two convolutions; the 1x7 is followed by a 7x1.",
        chain_macs(FACTORISATIONS["1x7 then 7x1"], _V3["channels"], 1): "That is for one output position; the map "
        "has 17x17 of them.",
    },
)

_SMOOTHING, _IMAGENET_CLASSES = 0.1, 1000

nb05_smoothing = ExplainedExercise(
    f"Inception v3 was trained on ImageNet's {_IMAGENET_CLASSES:,} classes with label smoothing epsilon = "
    f"{_SMOOTHING}. What target probability does the smoothed label give the true class?",
    expected=lambda: 1 - _SMOOTHING + _SMOOTHING / _IMAGENET_CLASSES,
    working=lambda: (
        f"the target keeps 1 - {_SMOOTHING} of its weight on the true class and spreads {_SMOOTHING} evenly over all "
        f"{_IMAGENET_CLASSES:,} classes, the true one included: {1 - _SMOOTHING} + {_SMOOTHING}/{_IMAGENET_CLASSES} = "
        f"{1 - _SMOOTHING + _SMOOTHING / _IMAGENET_CLASSES:.4f}"
    ),
    rel_tolerance=1e-5,
    mistakes=lambda: {
        1 - _SMOOTHING: f"The {_SMOOTHING} is spread over all {_IMAGENET_CLASSES:,} classes, the true one included, "
        "so the true class gets its share of it back.",
        1 - _SMOOTHING + _SMOOTHING / 10: "That is the target for 10 classes (CIFAR-10, notebook 04).",
        _SMOOTHING / _IMAGENET_CLASSES: "That is what each of the other classes gets.",
    },
)


def nb05_switch_off(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> ExplainedExercise:
    """A hands-on exercise on the notebook's model (eval mode) and some of its test images (uint8, labels)."""

    @functools.cache
    def correct(branch: str | None) -> int:
        off = contextlib.nullcontext() if branch is None else switch_off(model.inception5b, branch)
        with torch.no_grad(), off:
            predictions = model(normalize(images)).argmax(1)
        return int((predictions.cpu() == labels.cpu()).sum())

    return ExplainedExercise(
        f"Use `switch_off` to switch off the pool branch of `model.inception5b` (and nothing else). How many of "
        f"these {len(labels)} test images does the network then classify correctly?",
        expected=lambda: correct("branch4"),
        working=lambda: (
            "with switch_off(model.inception5b, 'branch4'), torch.no_grad():\n"
            "    predictions = model(normalize(images)).argmax(1)\n"
            f"print((predictions == labels).sum())  # {correct('branch4')} of {len(labels)}, against "
            f"{correct(None)} with every branch on"
        ),
        mistakes=lambda: {
            correct(None): "That is the count with every branch on: does the model run inside the "
            "`with switch_off(...)` block?",
            correct("branch3"): "That is with the 5x5 branch (branch3) off; the pool branch is branch4.",
            correct("branch1"): "That is with the 1x1 branch (branch1) off; the pool branch is branch4.",
        },
    )
