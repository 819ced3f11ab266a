"""The notebooks' numeric exercises: `nbXX_name.check(answer)` says whether a number is right.

A checker shows the working (and so the answer) only when asked with `show=True`, so a classroom can try first.
Expected values are computed from the package, never typed in. What an exercise is and how it judges an answer is
`exercise.Exercise`; each exercise's likely wrong answers are in `answer_mistakes`, under the exercise's name. (A
learner's own nn.Module is checked by `module_checks.check_module`.)
"""

from __future__ import annotations

import contextlib
import functools

import torch

from . import answer_mistakes
from .analysis import switch_off
from .blocks import Inception, InceptionAux, NaiveInception
from .config import TrainConfig, one_cycle
from .costs import branch_costs, conv_macs, conv_params, count_params, measure, measure_module, stack_table1
from .data import crop_flip, normalize, steps_per_epoch
from .exercise import Exercise, ExplainedExercise
from .later import FACTORISATIONS, chain_macs
from .network import CIFAR, TORCHVISION, GoogLeNet
from .shapes import forward_order, receptive_fields
from .table1 import TABLE1, input_channels

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
    mistakes=answer_mistakes.nb01_macs_5x5_3b,
)

nb01_params_3x3_3b = Exercise(
    "In the real network, 3b gets 256 channels at 28x28 and its 3x3 branch has 192 filters. Built naive (no "
    "reduction), how many parameters (weights and biases) has that 3x3 branch?",
    expected=lambda: measure(_naive(256, "3b").branch2, (256, 28, 28)).params,
    working=lambda: f"3*3*256*192 weights + 192 biases = {conv_params(256, 192, 3):,}",
    mistakes=answer_mistakes.nb01_params_3x3_3b,
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
    mistakes=lambda: answer_mistakes.nb01_channels_tenth(_tenth_naive()[0]),
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
    mistakes=answer_mistakes.nb02_params_4e_5x5,
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
    mistakes=lambda: answer_mistakes.nb02_saving_5x5_5b(*_saving_5x5_5b()),
)

nb02_break_even = Exercise(
    "The 5x5 branch of 3a from section 2 (192 -> 32 at 28x28, weights only). What is the largest number of "
    "reduction channels r (the 1x1 convolution's filters, 192 -> r -> 32) that still costs fewer multiply-adds "
    "than the direct 5x5 convolution?",
    expected=lambda: max(r for r in range(1, 193) if _reduced_5x5_macs(r) < conv_macs(192, 32, 5, 28, bias=False)),
    working=lambda: (
        f"reduced: (192 + 5*5*32) * r * 28*28 = {192 + 5 * 5 * 32} * r * 784; direct: 5*5*192*32 * 784 "
        f"= {5 * 5 * 192 * 32:,} * 784; so r < {5 * 5 * 192 * 32 / (192 + 5 * 5 * 32):.1f}, "
        f"the largest is r = {5 * 5 * 192 * 32 // (192 + 5 * 5 * 32)}"
    ),
    mistakes=answer_mistakes.nb02_break_even,
)

# ---- Notebook 03: the full network ----


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
    mistakes=lambda: answer_mistakes.nb03_field_3b_cifar(_field_after),
)

nb03_field_5b_torchvision = Exercise(
    "torchvision's variant has a 3x3 where the paper has 5x5 in every module's third branch, and its max pool "
    "before stage 5 (maxpool4) is 2x2/2 where the paper's is 3x3/2. What is the receptive field after its "
    "inception5b? (The paper's network reaches 715.)",
    expected=lambda: _field_after("inception5b", **TORCHVISION),
    working=lambda: (
        "the widest branch is now 3x3 (or the 3x3 max pool), so each module adds 2 steps instead of 4: "
        "2*8 twice in stage 3, 2*16 five times in stage 4, 2*32 twice in stage 5; the 2x2 max pool before stage 5 "
        f"adds 1*16 instead of 2*16: {_field_after('inception5b', **TORCHVISION)}"
    ),
    mistakes=lambda: answer_mistakes.nb03_field_5b_torchvision(_field_after),
)

nb03_aux_params_cifar = Exercise(
    "How many parameters (weights and biases) has the first auxiliary head (after 4a, 512 channels in) "
    "when the network is built for the 10 classes of CIFAR-10?",
    expected=lambda: count_params(InceptionAux(512, 10)),
    working=lambda: (
        f"1x1 conv 512*128 + 128 = {512 * 128 + 128:,}; fc1 2048*1024 + 1024 = {2048 * 1024 + 1024:,}; "
        f"fc2 1024*10 + 10 = {1024 * 10 + 10:,}; total {count_params(InceptionAux(512, 10)):,}"
    ),
    mistakes=answer_mistakes.nb03_aux_params_cifar,
)

nb03_side_320 = Exercise(
    "Feed the paper's network a 320x320 image. What is the height (= width) of inception4e's output?",
    expected=lambda: _side_after("inception4e", 320),
    working=lambda: (
        "conv1 /2 -> 160; maxpool1 (3x3/2, ceil) -> 80; maxpool2 -> 40; maxpool3 -> "
        f"{_side_after('inception4e', 320)}; stage 4 keeps that size"
    ),
    mistakes=lambda: answer_mistakes.nb03_side_320(_side_after),
)

# ---- Notebook 04: training ----


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
    mistakes=answer_mistakes.nb04_steps,
)

nb04_crops = Exercise(
    "Random crop with 4 pixels of padding and a random horizontal flip: how many different 32x32 images can one "
    "training image become?",
    expected=_distinct_crops,
    working=lambda: f"9 vertical x 9 horizontal offsets x 2 (flipped or not) = {_distinct_crops()}",
    mistakes=answer_mistakes.nb04_crops,
)


def _lr_at_1000() -> tuple[float, str]:
    """The default schedule's learning rate at step 1000, and how to get it."""
    config = TrainConfig()
    total = config.total_steps(50_000)
    warmup = round(config.warmup * total)
    lr = config.lr * one_cycle(1000, total, config.warmup)
    return lr, (
        f"warm-up ends after {warmup} steps; then 0.4 x ({total} - 1000) / ({total} - {warmup} + 1) = {lr:.4f} "
        f"(the + 1 in the decay's denominator, as config.one_cycle has it, keeps the last step, {total - 1}, above "
        f"zero: it gets 0.4 x 1 / ({total} - {warmup} + 1))"
    )


nb04_lr = Exercise(
    "With the default one-cycle schedule (peak 0.4, 20% warm-up, the step count of the first exercise), what is the "
    "learning rate at step 1000 (counting from 0)? Three significant digits are enough.",
    expected=lambda: _lr_at_1000()[0],
    working=lambda: _lr_at_1000()[1],
    rel_tolerance=0.005,
    mistakes=answer_mistakes.nb04_lr,
)

# ---- Notebook 05: what the trained network learned, and what came next ----


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
    mistakes=lambda: answer_mistakes.nb05_two_3x3(_taps),
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
    mistakes=lambda: answer_mistakes.nb05_asymmetric(**_V3),
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
    mistakes=lambda: answer_mistakes.nb05_smoothing(_SMOOTHING, _IMAGENET_CLASSES),
)


def nb05_switch_off(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> ExplainedExercise:
    """A hands-on exercise on the notebook's model (eval mode) and some of its test images (uint8, labels)."""

    @functools.cache
    def correct(branch: str | None, scale: float | None = None) -> int:
        """Images classified correctly with `branch` of 5b off; scale: fed as images.float() / scale, without
        normalize (a likely mistake), instead of normalize(images)."""
        off = contextlib.nullcontext() if branch is None else switch_off(model.inception5b, branch)
        inputs = normalize(images) if scale is None else images.float() / scale
        with torch.no_grad(), off:
            predictions = model(inputs).argmax(1)
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
        mistakes=lambda: answer_mistakes.nb05_switch_off(correct, len(labels)),
    )
