"""Self-check helpers for the notebooks' exercises.

A checker says whether an answer is right; it shows the working (and so the answer)
only when asked with `show=True`, so a classroom can try first. Expected values are
computed from the package, never typed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .blocks import Inception, NaiveInception
from .costs import branch_costs, conv_macs, conv_params, measure, measure_module, stack_table1
from .network import TABLE1


@dataclass(frozen=True)
class Exercise:
    """A numeric question whose expected answer and working are computed on demand."""

    question: str
    expected: Callable[[], float]
    working: Callable[[], str]
    rel_tolerance: float = 0.0

    def check(self, answer: float | None = None, show: bool = False) -> bool:
        """Print whether `answer` is right; with show=True also print the working."""
        expected = self.expected()
        correct = answer is not None and abs(answer - expected) <= self.rel_tolerance * abs(expected)
        if answer is None:
            print(f"Q: {self.question}\nType your number, e.g. check(12345).")
        elif correct:
            print(f"Correct: {answer:,}.")
        else:
            print(f"Not quite: {answer:,} is not it. Try again, or call with show=True for the working.")
        if show:
            print(self.working())
        return correct


# ---- Notebook 01: naive Inception module ----


def _naive(in_channels: int, name: str) -> NaiveInception:
    """The naive module (pass-through pool) with the #1x1, #3x3 and #5x5 widths of Table 1 row `name`."""
    ch1x1, _, ch3x3, _, ch5x5, _ = TABLE1[name]
    return NaiveInception(in_channels, ch1x1, ch3x3, ch5x5)


nb01_macs_5x5_3b = Exercise(
    "In the real network, 3b gets 256 channels at 28x28 and its 5x5 branch has 96 filters. Built naive (no "
    "reduction), how many multiply-adds does that 5x5 branch cost for one image, bias adds included as torchinfo does?",
    expected=lambda: measure(_naive(256, "3b").branch3, (256, 28, 28)).macs,
    working=lambda: f"(5*5*256*96 weights + 96 biases) * 28*28 outputs per filter = {conv_macs(256, 96, 5, 28):,}",
)

nb01_params_3x3_3b = Exercise(
    "In the real network, 3b gets 256 channels at 28x28 and its 3x3 branch has 192 filters. Built naive (no "
    "reduction), how many parameters (weights and biases) has that 3x3 branch?",
    expected=lambda: measure(_naive(256, "3b").branch2, (256, 28, 28)).params,
    working=lambda: f"3*3*256*192 weights + 192 biases = {conv_params(256, 192, 3):,}",
)


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
)

# ---- Notebook 02: 1x1 bottlenecks ----
_IN_4E = sum(TABLE1["4d"][i] for i in (0, 2, 4, 5))  # 4e's input: the channels 4d concatenates


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
)

_IN_5B = sum(TABLE1["5a"][i] for i in (0, 2, 4, 5))  # 5b's input: the channels 5a concatenates


def _saving_5x5_5b() -> tuple[int, int]:
    """Weights-only multiply-adds of 5b's 5x5 branch at 7x7: direct, and through its 1x1 reduction."""
    _, _, _, reduce, out, _ = TABLE1["5b"]
    direct = conv_macs(_IN_5B, out, 5, 7, bias=False)
    return direct, conv_macs(_IN_5B, reduce, 1, 7, bias=False) + conv_macs(reduce, out, 5, 7, bias=False)


nb02_saving_5x5_5b = Exercise(
    f"Module 5b gets {_IN_5B} channels at 7x7; its 5x5 branch reduces them to {TABLE1['5b'][3]} with a 1x1 "
    f"convolution, then makes {TABLE1['5b'][4]} channels. By what factor does the reduction cut the multiply-adds of "
    "that branch, compared with one 5x5 convolution straight from the input (weights only)? Two decimals are enough.",
    expected=lambda: _saving_5x5_5b()[0] / _saving_5x5_5b()[1],
    working=lambda: (
        f"direct 5*5*{_IN_5B}*128*7*7 = {_saving_5x5_5b()[0]:,}; reduced ({_IN_5B}*48 + 5*5*48*128)*7*7 = "
        f"{_saving_5x5_5b()[1]:,}; ratio {_saving_5x5_5b()[0] / _saving_5x5_5b()[1]:.2f} (the 7x7 cancels out)"
    ),
    rel_tolerance=0.001,
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
)

# ---- Notebook 03: the full network ----
from .anatomy import count_params, forward_order, receptive_fields
from .blocks import InceptionAux
from .network import CIFAR, TORCHVISION, GoogLeNet


def _field_after(name: str, **kwargs) -> int:
    """Theoretical receptive field after layer `name` of a GoogLeNet built with `kwargs`."""
    return next(f.size for f in receptive_fields(GoogLeNet(aux_logits=False, **kwargs)) if f.name == name)


def _side_after(name: str, size: int) -> int:
    """Height (= width) of layer `name`'s output for a size x size input to the paper's network."""
    return dict(forward_order(GoogLeNet(aux_logits=False), size))[name][1]


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
)

nb03_aux_params_cifar = Exercise(
    "How many parameters (weights and biases) has the first auxiliary head (after 4a, 512 channels in) "
    "when the network is built for the 10 classes of CIFAR-10?",
    expected=lambda: count_params(InceptionAux(512, 10)),
    working=lambda: (
        f"1x1 conv 512*128 + 128 = {512 * 128 + 128:,}; fc1 2048*1024 + 1024 = {2048 * 1024 + 1024:,}; "
        f"fc2 1024*10 + 10 = {1024 * 10 + 10:,}; total {count_params(InceptionAux(512, 10)):,}"
    ),
)

nb03_side_320 = Exercise(
    "Feed the paper's network a 320x320 image. What is the height (= width) of inception4e's output?",
    expected=lambda: _side_after("inception4e", 320),
    working=lambda: (
        "conv1 /2 -> 160; maxpool1 (3x3/2, ceil) -> 80; maxpool2 -> 40; maxpool3 -> "
        f"{_side_after('inception4e', 320)}; stage 4 keeps that size"
    ),
)

# ---- Notebook 04: training ----
import torch

from .data import crop_flip, steps_per_epoch
from .training import TrainConfig, one_cycle


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
)

nb04_crops = Exercise(
    "Random crop with 4 pixels of padding and a random horizontal flip: how many different 32x32 images can one "
    "training image become?",
    expected=_distinct_crops,
    working=lambda: f"9 vertical x 9 horizontal offsets x 2 (flipped or not) = {_distinct_crops()}",
)

def _lr_at_1000() -> tuple[float, str]:
    """The default schedule's learning rate at step 1000, and how to get it."""
    config = TrainConfig()
    total = config.total_steps(50_000)
    warmup = round(config.warmup * total)
    lr = config.lr * one_cycle(1000, total, config.warmup)
    return lr, f"warm-up ends after {warmup} steps; then 0.4 x ({total} - 1000) / ({total} - {warmup} + 1) = {lr:.4f}"


nb04_lr = Exercise(
    "With the default one-cycle schedule (peak 0.4, 20% warm-up, the step count of the first exercise), what is the "
    "learning rate at step 1000 (counting from 0)? Three significant digits are enough.",
    expected=lambda: _lr_at_1000()[0],
    working=lambda: _lr_at_1000()[1],
    rel_tolerance=0.005,
)
