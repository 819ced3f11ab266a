"""The likely wrong answers to the notebooks' numeric exercises, and what each one probably counted.

One function per exercise of `answer_checks`, with the exercise's name, returns {wrong answer: "Did you ...? why"}.
The wrong answers are computed as the right ones are, from the package, with the one step a learner is likely to
get wrong changed; an argument is a quantity the exercise itself computes (a receptive field, a branch's costs).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .blocks import InceptionAux
from .config import TrainConfig
from .costs import conv_macs, conv_params, count_params
from .data import steps_per_epoch
from .later import FACTORISATIONS, chain_macs
from .network import CIFAR, TORCHVISION
from .table1 import TABLE1, input_channels

# ---- Notebook 01: naive Inception module ----


def nb01_macs_5x5_3b() -> dict[float, str]:
    return {
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
    }


def nb01_params_3x3_3b() -> dict[float, str]:
    return {
        conv_params(256, 192, 3, bias=False): "Did you leave out the biases? Each of the 192 filters has one.",
        conv_params(256, 192, 3, bias=False) + 256: "Did you give each input channel a bias? There is one per filter "
        "(output channel): 192.",
        conv_params(256, 192, 1): "Did you count a 1x1 kernel? A 3x3 filter has 3*3 weights for each input channel.",
        conv_params(192, 192, 3): "Did you take 3a's input, 192 channels? 3b gets 256: what 3a concatenates.",
        conv_macs(256, 192, 3, 28): "Did you count multiply-adds? The question asks for parameters: each weight "
        "counts once, not once per output position.",
        conv_params(256, 128, 1) + conv_params(128, 192, 3): "Did you count the real 3b's branch, with its 1x1 "
        "reduction to 128? Built naive, the 3x3 reads all 256 input channels.",
    }


def nb01_channels_tenth(naive_5b_out: int) -> dict[float, str]:
    """naive_5b_out: the channels the naive stack's 5b makes, the tenth module's input."""
    return {
        384 + 384 + 128: "Did you leave out the pool branch's channels? In the naive module the max pool passes all "
        "of its input channels through.",
        naive_5b_out: "Did you give the tenth module's input, what the naive 5b makes? Its three convolutions "
        "add their channels to what the pool passes through.",
        TABLE1["5b"].out_channels: "Did you take the real 5b, with its pool projection to 128? The naive module has "
        "no projection: its pool passes its whole input through.",
    }


# ---- Notebook 02: 1x1 bottlenecks ----


def nb02_params_4e_5x5() -> dict[float, str]:
    in_4e, in_4d = input_channels("4e"), input_channels("4d")
    return {
        conv_params(in_4e, 32, 1, bias=False) + conv_params(32, 128, 5, bias=False): "Did you leave out the "
        "biases? Each filter has one: 32 in the reduction, 128 in the 5x5.",
        conv_params(32, 128, 5): "Did you count the 5x5 convolution only? The 1x1 reduction before it has "
        "parameters too.",
        conv_params(in_4e, 32, 1): "Did you count the 1x1 reduction only? The 5x5 convolution after it has "
        "parameters too.",
        conv_params(in_4e, 128, 5): f"Did you count one 5x5 straight from the {in_4e} input channels? The branch "
        "reduces them to 32 first, and the 5x5 reads those 32.",
        conv_params(in_4e, 32, 1) + conv_params(in_4e, 128, 5): f"Did you let the 5x5 read all {in_4e} input "
        "channels? It reads the 32 that the reduction makes.",
        conv_params(in_4d, 32, 1) + conv_params(32, 128, 5): f"Did you take 4d's input "
        f"({in_4d} channels)? 4e gets {in_4e}, what 4d concatenates.",
        (conv_params(in_4e, 32, 1) + conv_params(32, 128, 5)) * 14 * 14: "Did you count multiply-adds? The "
        "question asks for parameters: each weight counts once, not once per output position.",
    }


def nb02_saving_5x5_5b(direct: int, reduced: int) -> dict[float, str]:
    """direct, reduced: the weights-only multiply-adds of 5b's 5x5 branch without and with its 1x1 reduction."""
    in_5b, reduce, out = input_channels("5b"), TABLE1["5b"].ch5x5red, TABLE1["5b"].ch5x5
    return {
        reduced / direct: "Did you divide the reduced cost by the direct one? The factor the reduction cuts by is "
        "direct / reduced.",
        1 - reduced / direct: "Did you give the share saved? The question asks for the factor: direct / reduced.",
        direct / conv_macs(reduce, out, 5, 7, bias=False): f"Did you leave out the 1x1 reduction's own cost "
        f"({in_5b}*48 per position)? The reduced branch runs both convolutions.",
        direct / conv_macs(in_5b, reduce, 1, 7, bias=False): "Did you leave out the 5x5's cost in the reduced "
        "branch? It still runs, on 48 channels.",
    }


def nb02_break_even() -> dict[float, str]:
    return {
        155: "Did you round the break-even width up? At r = 155 the reduced branch already costs more than the "
        "direct 5x5; the widest that costs fewer is below it.",
        191: "Did you compare the 5x5 convolutions only? The 1x1 reduction costs 192*r multiply-adds per position too.",
    }


# ---- Notebook 03: the full network ----

FieldAfter = Callable[..., int]  # field_after(layer name, **GoogLeNet options): its receptive field in pixels


def nb03_field_3b_cifar(field_after: FieldAfter) -> dict[float, str]:
    return {
        field_after("inception3b"): "Did you use the paper's stem (7x7/2 convolution, 3x3/2 max pool)? "
        "GoogLeNet(**CIFAR) starts with a 3x3 convolution with stride 1 and has no first max pool.",
        field_after("inception3b", **{**CIFAR, "branch3_kernel": 3}): "Did you add (3-1) * 2 = 4 per module, or "
        "keep a step of 1 after maxpool2? Each module's widest window is its 5x5 branch, and after the stride-2 "
        "max pool one step is 2 pixels: each module adds (5-1) * 2 = 8.",
        field_after("inception3b", **CIFAR) - 2: "Did you leave out maxpool2's own 3x3 window? Before it doubles "
        "the step it adds 2 pixels.",
        field_after("inception3b", **CIFAR) - 10: "Did you leave out maxpool2? It adds 2 pixels and doubles the "
        "step, so each module then adds 8, not 4.",
    }


def nb03_field_5b_torchvision(field_after: FieldAfter) -> dict[float, str]:
    return {
        field_after("inception5b"): "Did you give the paper's network? torchvision's third branch is a 3x3.",
        field_after("inception5b", **{**TORCHVISION, "pool4_kernel": 3}): "Did you count the max pool before stage "
        "5 as 3x3? torchvision's is 2x2: it adds 1 step of 16 pixels, not 2.",
        field_after("inception5b", **{**TORCHVISION, "branch3_kernel": 5}): "Did you keep the 5x5 branches? "
        "torchvision's third branch is a 3x3 in every module.",
    }


def nb03_aux_params_cifar() -> dict[float, str]:
    return {
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
    }


def nb03_side_320(side_after: Callable[[str, int], int]) -> dict[float, str]:
    """side_after(layer name, input size): the height (= width) of that layer's output in the paper's network."""
    return {
        side_after("inception4e", 224): "Did you use Table 1's 224x224 input? The question feeds 320x320, so "
        "every map is larger.",
        side_after("inception5b", 320): "Did you halve once more? maxpool4 comes after 4e, before stage 5.",
        side_after("inception3b", 320): "Did you stop at stage 3's size? maxpool3 halves the map before stage 4.",
        _floored_side_4e(320): "Did you round down? The pools use ceil_mode=True: a 3x3/2 max pool "
        "gives (side - 3) / 2 + 1 rounded up, so 160 -> 80, not 79.",
    }


def _floored_side_4e(side: int) -> int:
    """inception4e's side in the paper's network with every max pool rounding down (ceil_mode=False)."""
    side = (side + 2 * 3 - 7) // 2 + 1  # conv1 7x7/2, padding 3
    for _ in range(3):  # maxpool1, maxpool2, maxpool3: 3x3/2, no padding
        side = (side - 3) // 2 + 1
    return side


# ---- Notebook 04: training ----


def nb04_steps() -> dict[float, str]:
    config = TrainConfig()
    return {
        config.epochs * -(-50_000 // config.batch_size): "Did you keep each epoch's last partial batch? It is "
        "dropped: 50,000 // batch size steps per epoch.",
        steps_per_epoch(50_000, config.batch_size): f"Did you count one epoch? The recipe trains {config.epochs}.",
        config.epochs * 50_000: f"Did you count images? A step takes one batch of {config.batch_size}.",
    }


def nb04_crops() -> dict[float, str]:
    return {
        81: "Did you leave out the flip? Each crop can be flipped or not: x2.",
        128: "Did you count 8 offsets per direction? With 4 pixels of padding on each side the crop can start at "
        "0, 1, ..., 8: 9 offsets.",
        64: "Did you count 8 offsets per direction and leave out the flip? The crop can start at 0, 1, ..., 8 (9 "
        "offsets), and each crop can be flipped or not.",
        18: "Did you move the crop in one direction only? It moves vertically and horizontally: 9 x 9 offsets.",
    }


def nb04_lr() -> dict[float, str]:
    """Learning rates at step 1000 that a likely misreading of the schedule (`one_cycle`) gives."""
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


# ---- Notebook 05: what the trained network learned, and what came next ----


def nb05_two_3x3(taps: Callable[[str], int]) -> dict[float, str]:
    """taps(name): multiply-adds per output position and pair of channels of FACTORISATIONS[name]."""
    return {
        taps("two 3x3") / taps("5x5"): "That is what the two 3x3 still cost, as a fraction of the 5x5; the "
        "question asks what is saved.",
        1 - taps("3x3") / taps("5x5"): "That counts one 3x3; the 5x5 becomes two of them, one on top of the other.",
        taps("3x3") / taps("5x5"): "That compares one 3x3 with the 5x5; there are two, and the question asks what "
        "is saved.",
    }


def nb05_asymmetric(channels: int, size: int) -> dict[float, str]:
    """channels, size: those of the exercise's 7x7 (in, between and out; the map's side)."""
    return {
        chain_macs(FACTORISATIONS["7x7"], channels, size): "That is the 7x7 convolution before it is factorised.",
        chain_macs([(1, 7)], channels, size): "That is one of the two convolutions; the 1x7 is followed by a 7x1.",
        chain_macs(FACTORISATIONS["1x7 then 7x1"], channels, 1): "That is for one output position; the map "
        f"has {size}x{size} of them.",
    }


def nb05_smoothing(smoothing: float, classes: int) -> dict[float, str]:
    return {
        1 - smoothing: f"The {smoothing} is spread over all {classes:,} classes, the true one included, "
        "so the true class gets its share of it back.",
        1 - smoothing + smoothing / 10: "That is the target for 10 classes (CIFAR-10, notebook 04).",
        smoothing / classes: "That is what each of the other classes gets.",
    }


def nb05_switch_off(correct: Callable[..., int], total: int) -> dict[float, str]:
    """correct(branch): how many of the `total` images the model classifies correctly with that branch of 5b off;
    correct(branch, scale): the same fed images.float() / scale, without normalize."""
    count = f"The answer is a count: how many of the {total} images are classified correctly, a whole number."
    fraction = correct("branch4") / total
    unnormalized = {
        correct("branch4", scale): "Did you feed the images without normalize? The network was trained on "
        "normalize(images) (the CIFAR-10 mean and std), so run model(normalize(images))."
        for scale in (1.0, 255.0)
    }
    as_fraction = {round(fraction, digits): f"Did you give a fraction? {count}" for digits in (1, 2, 3, 4, 6)}
    as_percentage = {round(100 * fraction, digits): f"Did you give a percentage? {count}" for digits in (0, 1, 2)}
    return (
        unnormalized
        | as_fraction
        | {fraction: f"Did you give a fraction? {count}"}
        | as_percentage
        | {
            correct(None): "That is the count with every branch on: does the model run inside the "
            "`with switch_off(...)` block?",
            correct("branch3"): "That is with the 5x5 branch (branch3) off; the pool branch is branch4.",
            correct("branch1"): "That is with the 1x1 branch (branch1) off; the pool branch is branch4.",
        }
    )
