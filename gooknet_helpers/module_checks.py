"""Check a learner's Inception module, naive module or auxiliary head against the package's, by behaviour.

`check_module(kind, cls)` builds the learner's class and the package's with the same small arguments,
copies the package's weights in, and compares what the two compute: each branch on its own, then the
whole output (shape first, then values), then training-mode dropout for the auxiliary head. A mistake
raises AssertionError with a message in the learner's terms (the submodule names the skeleton fixes).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import re
import signal
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from IPython.display import display
from torch import nn

from .blocks import Inception, InceptionAux, NaiveInception
from .source import show_code
from .table1 import AUX

# kind: (package class, constructor arguments, input side). Distinct small widths, so a channel count names
# the argument it came from and every branch has its own width.
SETUPS: dict[str, tuple[type[nn.Module], tuple[int, ...], int]] = {
    "naive": (NaiveInception, (10, 2, 4, 6), 8),  # in_channels, ch1x1, ch3x3, ch5x5 (pass-through pool)
    "inception": (Inception, (10, 2, 3, 4, 5, 6, 7), 8),  # in_channels, then Table 1's six columns
    "aux": (InceptionAux, (12, 5), 14),  # in_channels, num_classes; the paper's 14x14 map
}

# What each submodule is, in the words of Figure 2 and Section 5.
PARTS = {
    "branch1": "the 1x1 branch",
    "branch2": "the 3x3 branch",
    "branch2.0": "the 1x1 reduction of the 3x3 branch",
    "branch2.1": "the 3x3 convolution",
    "branch3": "the 5x5 branch",
    "branch3.0": "the 1x1 reduction of the 5x5 branch",
    "branch3.1": "the 5x5 convolution",
    "branch4": "the pool branch",
    "branch4.0": "the 3x3 max pool",
    "branch4.1": "the pool projection",
    "pool": "the 5x5/3 average pool",
    "conv": "the 1x1 convolution",
    "fc1": "the fully connected layer",
    "relu": "the ReLU after fc1",
    "dropout": "the dropout",
    "fc2": "the classifier",
}
BRANCHES = ("branch1", "branch2", "branch3", "branch4")


def written(path: str) -> str:
    """A submodule path as Python writes it: "branch2.0.conv" -> "branch2[0].conv"."""
    return ".".join(f"[{p}]" if p.isdigit() else p for p in path.split(".")).replace(".[", "[")


def describe(path: str) -> str:
    """A submodule path in the learner's terms: "branch2.0.conv" -> "branch2[0].conv (the 1x1 reduction ...)"."""
    shown = written(path)
    known = max((p for p in PARTS if path == p or path.startswith(p + ".")), key=len, default=None)
    return f"{shown} ({PARTS[known]})" if known else shown


def compare_module(kind: str, cls: type[nn.Module], show: bool = False) -> bool:
    """The checks of `check_module`, which runs them with a time limit and turns any error raised inside the
    learner's module into a message naming it. True if `cls` computes what the package's module of this kind
    computes; else AssertionError saying why.

    kind: "naive" (NaiveInception, Figure 2a), "inception" (Inception, Figure 2b) or "aux" (InceptionAux).
    cls: the learner's class, taking the package class's arguments and naming its parts as the package does.
    show: display the package's own code first (the answer).
    """
    if kind not in SETUPS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, SETUPS))}, got {kind!r}")
    reference_cls, args, side = SETUPS[kind]
    if show:
        display(show_code(reference_cls))
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise AssertionError(f"pass your class itself (an nn.Module subclass), not {type(cls).__name__} {cls!r}")
    with torch.random.fork_rng(devices=[]):  # leave the notebook's random numbers as they were
        torch.manual_seed(0)
        student, reference = build(cls, reference_cls, args), reference_cls(*args)
        names = argument_names(reference_cls, args)
        x = torch.randn(2, args[0], side, side)
        if kind == "aux":  # first, as a wrong pool changes the size of fc1
            compare_pool(student, reference, x)
        try:
            compare_parameters(student, reference, names)
        except AssertionError as mistake:  # parts named or sized otherwise: layers in another order or kind?
            parts = [""] if kind == "aux" else [b for b in BRANCHES if isinstance(getattr(student, b, None), nn.Module)]
            reasons = (structure_message(part_of(student, p), part_of(reference, p), x, p) for p in parts)
            raise AssertionError(next((r for r in reasons if r), None) or str(mistake)) from None
        student.load_state_dict(reference.state_dict())
        student.eval()
        reference.eval()
        with torch.no_grad():
            if kind == "aux":
                compare_aux(student, reference, x)
            else:
                for branch in BRANCHES:
                    compare_branch(student, reference, branch, x)
                compare_concatenation(student, reference, x)
    count = sum(p.numel() for p in student.parameters())
    print(
        f"Correct: your {cls.__name__} computes what the package's {reference_cls.__name__}{args} computes on a "
        f"random {'x'.join(map(str, x.shape))} input, with the same {count:,} parameters."
    )
    return True


def build(cls: type[nn.Module], reference_cls: type[nn.Module], args: tuple[int, ...]) -> nn.Module:
    """The learner's module built with the package class's arguments, or a message showing the expected call."""
    try:
        return cls(*args)
    except Exception as error:
        parameters = inspect.signature(reference_cls).parameters.values()
        signature = ", ".join(p.name if p.default is p.empty else f"{p.name}={p.default!r}" for p in parameters)
        raise AssertionError(
            f"{cls.__name__}{args} failed with {type(error).__name__}: {error}. Your class must take the arguments "
            f"{reference_cls.__name__} takes: ({signature})"
        ) from None


def argument_names(reference_cls: type[nn.Module], args: tuple[int, ...]) -> dict[int, str]:
    """{channel count: argument name} for the arguments (and integer defaults) the modules are built with.

    Explicit arguments win over defaults with the same value (Inception's ch5x5red=5 over branch3_kernel=5).
    """
    bound = inspect.signature(reference_cls).bind(*args)
    explicit = dict(bound.arguments)
    bound.apply_defaults()
    ordered = {**{k: v for k, v in bound.arguments.items() if k not in explicit}, **explicit}
    return {v: k for k, v in ordered.items() if isinstance(v, int) and not isinstance(v, bool)}


def compare_parameters(student: nn.Module, reference: nn.Module, names: dict[int, str]) -> None:
    """The learner's parameters must have the package's names and shapes; say which part differs and how."""
    theirs, ours = student.state_dict(), reference.state_dict()
    missing, unexpected = [k for k in ours if k not in theirs], [k for k in theirs if k not in ours]
    for key in missing:
        base = key.removesuffix(".conv.weight")
        if key.endswith(".conv.weight") and f"{base}.weight" in unexpected:
            raise AssertionError(
                f"{describe(base)} is a bare nn.Conv2d, so no ReLU follows it. Every convolution in GoogLeNet is "
                "followed by a ReLU, the 1x1 reductions and projections included: build it with BasicConv2d "
                "(convolution + ReLU)."
            )
    if missing or unexpected:
        present = dict(student.named_modules())
        absent = {first_absent(k, present) for k in missing}
        lines = [f"missing: {', '.join(describe(p) for p in sorted(absent))}"] if missing else []
        if unexpected:
            lines.append(f"not in the package's module: {', '.join(sorted({k.rsplit('.', 1)[0] for k in unexpected}))}")
        parts = "pool, conv, fc1, fc2" if hasattr(reference, "fc1") else "branch1 ... branch4"
        raise AssertionError(
            "Your module's parts are not the package's. " + "; ".join(lines) + ". Keep the part names of the "
            f"skeleton ({parts}) and build each part as the figure shows."
        )
    for key, value in ours.items():
        if theirs[key].shape != value.shape and key.endswith("weight"):
            raise AssertionError(shape_message(key.removesuffix(".weight"), theirs[key].shape, value.shape, names))


def part_of(module: nn.Module, path: str) -> nn.Module:
    """The submodule at `path` ("" for the module itself)."""
    return module.get_submodule(path) if path else module


def first_absent(key: str, present: dict[str, nn.Module]) -> str:
    """The outermost submodule on a parameter's path that the learner's module lacks."""
    parts = key.split(".")[:-1]
    return next((".".join(parts[: i + 1]) for i in range(len(parts)) if ".".join(parts[: i + 1]) not in present), key)


def shape_message(path: str, theirs: torch.Size, ours: torch.Size, names: dict[int, str]) -> str:
    """Why a weight has the wrong shape: kernel size, output channels or input channels."""
    part = describe(path.removesuffix(".conv"))

    def named(n: int) -> str:
        return f"{n} ({names[n]})" if n in names else str(n)

    if len(ours) == 4 and theirs[2:] != ours[2:]:
        got, want = "x".join(map(str, theirs[2:])), "x".join(map(str, ours[2:]))
        return f"{part} has a {got} kernel where the paper has {want}."
    if theirs[0] != ours[0]:
        return f"{part} makes {named(theirs[0])} channels where it should make {named(ours[0])}."
    return (
        f"{part} takes {named(theirs[1])} input channels where it receives {named(ours[1])}: its input is what "
        "comes before it (the module's input, or the 1x1 reduction before it)."
    )


def recorded_outputs(module: nn.Module, x: torch.Tensor, names: list[str]) -> dict[str, torch.Tensor]:
    """Run module(x); return copies of the outputs of the named submodules it has, in the order they ran."""
    outputs: dict[str, torch.Tensor] = {}
    available = dict(module.named_modules())
    hooks = []
    for name in names:
        if name in available:

            def record(_: nn.Module, __: tuple, out: torch.Tensor, name: str = name) -> None:
                outputs[name] = out.detach().clone()

            hooks.append(available[name].register_forward_hook(record))
    try:
        module(x)
    finally:
        for hook in hooks:
            hook.remove()
    return outputs


def first_difference(reference: nn.Module, student: nn.Module, x: torch.Tensor, names: list[str]) -> str | None:
    """Where the learner's computation first departs from the package's, as a message; None if nowhere."""
    ours = recorded_outputs(reference, x, names)
    try:
        theirs = recorded_outputs(student, x, names)
    except Exception:
        return None
    last_layer = ""
    for name, value in ours.items():  # in the order the package's module ran them
        module = reference.get_submodule(name)
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            last_layer = name
        if name not in theirs or (theirs[name].shape == value.shape and torch.allclose(theirs[name], value, atol=1e-5)):
            continue
        got = theirs[name]
        if value.min() >= 0 and got.shape == value.shape and got.min() < 0:
            return (
                f"the ReLU after {describe(last_layer)} is missing: negative values come out of {written(name)}. "
                "The paper follows every convolution and fully connected layer but the classifier with a ReLU."
            )
        return f"{describe(name)} computes something different from the package's."
    return None


def compare_branch(student: nn.Module, reference: nn.Module, branch: str, x: torch.Tensor) -> None:
    """One branch run on its own: it must exist, keep the map's size, and compute the package's values."""
    part = describe(branch)
    if not isinstance(getattr(student, branch, None), nn.Module):
        raise AssertionError(f"your module has no {part}: Figure 2 has four branches, branch1 ... branch4.")
    ours = getattr(reference, branch)(x)
    try:
        theirs = getattr(student, branch)(x)
    except Exception as error:
        raise AssertionError(f"{part} fails on a {shape(x)} input: {type(error).__name__}: {error}") from None
    if theirs.shape[-2:] != ours.shape[-2:]:
        raise AssertionError(shrink_message(getattr(student, branch), getattr(reference, branch), branch, x))
    if theirs.shape != ours.shape or not torch.allclose(theirs, ours, atol=1e-5):
        names = [n for n, _ in reference.named_modules() if n == branch or n.startswith(branch + ".")]
        theirs_branch, ours_branch = getattr(student, branch), getattr(reference, branch)
        reason = (
            structure_message(theirs_branch, ours_branch, x, branch)
            or input_message(theirs_branch, ours_branch, x, branch)
            or first_difference(reference, student, x, names)
            or f"{part} computes something different."
        )
        raise AssertionError(reason)


def shrink_message(student_branch: nn.Module, reference_branch: nn.Module, branch: str, x: torch.Tensor) -> str:
    """Which part of a branch changes the map's size, and the stride and padding that keep it."""
    size = f"{x.shape[-2]}x{x.shape[-1]}"
    for (name, theirs), (_, ours) in zip(
        student_branch.named_children(), reference_branch.named_children(), strict=False
    ):
        out = theirs(x)
        if out.shape[-2:] != x.shape[-2:]:
            kernel = nn.modules.utils._pair(getattr(ours, "conv", ours).kernel_size)[0]
            return (
                f"{describe(f'{branch}.{name}')} turns the {size} map into {out.shape[-2]}x{out.shape[-1]}. Every "
                f"branch keeps the map's size, so the four can be concatenated: a {kernel}x{kernel} window needs "
                f"stride=1 and padding={kernel // 2}."
            )
        x = out
    return f"{describe(branch)} changes the {size} map's size: every branch keeps it, with stride 1 and 'same' padding."


def shape(x: torch.Tensor) -> str:
    return "x".join(map(str, x.shape))


def compare_concatenation(student: nn.Module, reference: nn.Module, x: torch.Tensor) -> None:
    """The whole module: the four branch outputs, concatenated along the channels in Figure 2's order."""
    expected = reference(x)
    try:
        out = student(x)
    except Exception as error:
        raise AssertionError(forward_error(error, x, [getattr(reference, b)(x).shape[1] for b in BRANCHES])) from None
    if not isinstance(out, torch.Tensor) or out.dim() != 4:
        got = shape(out) if isinstance(out, torch.Tensor) else type(out).__name__
        raise AssertionError(f"forward should return one (N, C, H, W) tensor, got {got}.")
    if out.shape[0] != expected.shape[0]:
        raise AssertionError(
            f"your output has {out.shape[0]} images for a batch of {x.shape[0]}: the branches were concatenated along "
            "dimension 0, the batch. Channels are dimension 1 of (N, C, H, W): torch.cat([...], dim=1)."
        )
    if out.shape == expected.shape and torch.allclose(out, expected, atol=1e-5):
        return
    if relu_after(out, expected):
        raise AssertionError(
            "a ReLU runs after the concatenation: your output is the package's with its negative values set to 0. "
            "Each convolution has its own ReLU inside its branch; the pool branch passes its input on as it is, "
            "negative values included, and the module adds nothing after torch.cat."
        )
    raise AssertionError(concatenation_message(out, [getattr(reference, b)(x) for b in BRANCHES], expected))


def forward_error(error: Exception, x: torch.Tensor, widths: list[int] | None = None) -> str:
    """A forward pass that raised: explain the usual concatenation mistakes (`widths`: each branch's channels)."""
    text = str(error)
    if widths and re.search(r"must match the size of tensor \w+ \(\d+\) at non-singleton dimension 1", text):
        return adding_message(widths)
    wrong_dim = re.search(r"except in dimension (\d+)", text)
    if wrong_dim:
        dim = int(wrong_dim.group(1))
        what = {0: "the batch", 2: "the height", 3: "the width"}.get(dim, "not the channels")
        return (
            f"torch.cat joined the branches along dimension {dim}, {what} (their channel counts differ, so it fails). "
            "Channels are dimension 1 of (N, C, H, W): torch.cat([...], dim=1)."
        )
    if "stack expects" in text:
        return "torch.stack makes a new dimension; Figure 2 concatenates the branches along the channels: torch.cat."
    return f"your forward fails on a {shape(x)} input: {type(error).__name__}: {text}"


def adding_message(widths: list[int]) -> str:
    """The branches combined element by element (added, summed) where Figure 2 puts them side by side."""
    listed = f"{', '.join(map(str, widths[:-1]))} and {widths[-1]}"
    return (
        f"your forward combines the branches element by element (with + or sum, say): the four outputs are added "
        f"position by position, which needs equal shapes, and here the branches make {listed} channels. Figure 2 "
        f"does not add them; it puts them side by side along the channels, torch.cat([...], dim=1): "
        f"{' + '.join(map(str, widths))} = {sum(widths)} channels, each branch keeping its own."
    )


def concatenation_message(out: torch.Tensor, branches: list[torch.Tensor], expected: torch.Tensor) -> str:
    """Find each branch's output among the learner's channels; report a missing, misplaced or altered branch."""
    offsets = {}
    for branch, value in zip(BRANCHES, branches, strict=True):
        width = value.shape[1]
        for start in range(out.shape[1] - width + 1):
            part = out[:, start : start + width]
            if part.shape == value.shape and torch.allclose(part, value, atol=1e-5):
                offsets[branch] = start
                break
    absent = [b for b in BRANCHES if b not in offsets]
    if absent and out.shape[1] == expected.shape[1] - sum(branches[BRANCHES.index(b)].shape[1] for b in absent):
        return (
            f"{' and '.join(describe(b) for b in absent)} is missing from your output: it has {out.shape[1]} "
            f"channels where the four branches concatenated make {expected.shape[1]}."
        )
    if absent:
        return (
            f"the output of {' and '.join(describe(b) for b in absent)} does not appear among your output's channels: "
            "concatenate each branch's output as it is, once, with torch.cat([...], dim=1)."
        )
    order = sorted(offsets, key=offsets.get)
    if order != list(BRANCHES):
        return (
            f"the branches are in the wrong order: yours are {', '.join(order)}. Figure 2 (and Table 1's columns) "
            "concatenate 1x1, 3x3, 5x5, pool: branch1, branch2, branch3, branch4; every later layer relies on it."
        )
    return f"your output ({shape(out)}) differs from the package's ({shape(expected)}) beyond the four branches."


def compare_aux(student: nn.Module, reference: nn.Module, x: torch.Tensor) -> None:
    """The auxiliary head (its pool already compared): its output in eval mode, then its dropout in training mode."""
    expected = reference(x)
    try:
        out = student(x)
    except Exception as error:
        reason = failure_message(student, x)
        raise AssertionError(
            reason or f"your forward fails on a {shape(x)} input: {type(error).__name__}: {error}"
        ) from None
    if not isinstance(out, torch.Tensor) or out.shape != expected.shape:
        got = shape(out) if isinstance(out, torch.Tensor) else type(out).__name__
        raise AssertionError(f"the head should return {shape(expected)} (images x classes), got {got}.")
    if not torch.allclose(out, expected, atol=1e-5):
        if changes_in_eval(student, x):
            raise AssertionError(
                "in eval mode your head gives another output each time it runs: its dropout is still on. "
                "F.dropout(x, p) drops in every mode unless it is given training=self.training; use the module "
                f"self.dropout = nn.Dropout({AUX.dropout}), which model.eval() switches off. Dropout acts in training "
                "only."
            )
        if relu_after(out, expected):
            raise AssertionError(
                "a ReLU follows fc2 (the classifier): your head's outputs are never negative. fc2 gives the logits, "
                "which the softmax (inside the cross-entropy loss) turns into probabilities, and a logit must be "
                "free to be negative; Section 5's head ends with the linear layer."
            )
        names = [n for n, _ in reference.named_modules() if n]
        raise AssertionError(
            structure_message(student, reference, x)
            or input_message(student, reference, x)
            or first_difference(reference, student, x, names)
            or "your head computes something else."
        )
    compare_dropout(student, reference, x)


def compare_pool(student: nn.Module, reference: nn.Module, x: torch.Tensor) -> None:
    """The head's pool must be Section 5's 5x5 average pool with stride 3 (14x14 -> 4x4). Checked before the
    parameters: a pool with another window or stride changes the map, and with it the size fc1 needs."""
    pool = getattr(student, "pool", None)
    if not isinstance(pool, nn.Module):
        return  # the parts check says it is missing
    ours = reference.pool(x)
    try:
        theirs = pool(x)
    except Exception as error:
        raise AssertionError(f"pool fails on a {shape(x)} input: {type(error).__name__}: {error}") from None
    if not isinstance(theirs, torch.Tensor) or theirs.dim() != 4:
        return  # the forward comparison says what comes out
    if theirs.shape == ours.shape and torch.allclose(theirs, ours, atol=1e-5):
        return
    if isinstance(pool, nn.AvgPool2d) and theirs.shape != ours.shape:
        raise AssertionError(stride_message(student, pool, x, theirs, ours))
    if theirs.shape == ours.shape and torch.allclose(theirs, F.adaptive_avg_pool2d(x, ours.shape[-2:]), atol=1e-5):
        raise AssertionError(
            "pool is an adaptive average pool (torchvision's choice) where the paper has a 5x5 average pool with "
            "stride 3: nn.AvgPool2d(5, stride=3). At 14x14 both give 4x4, but over different windows."
        )
    if theirs.shape == ours.shape and torch.allclose(theirs, F.max_pool2d(x, 5, 3), atol=1e-5):
        raise AssertionError("pool takes the maximum where the paper averages: nn.AvgPool2d(5, stride=3).")
    raise AssertionError(
        f"pool turns the {x.shape[-2]}x{x.shape[-1]} map into {theirs.shape[-2]}x{theirs.shape[-1]} values that differ "
        "from Section 5's 5x5 average pool with stride 3 (14x14 -> 4x4): nn.AvgPool2d(5, stride=3)."
    )


def stride_message(
    student: nn.Module, pool: nn.Module, x: torch.Tensor, theirs: torch.Tensor, ours: torch.Tensor
) -> str:
    """An average pool of another window or stride: name both, and what its map did to fc1's size."""
    (k, _), (s, _) = (nn.modules.utils._pair(v) for v in (pool.kernel_size, pool.stride))
    wrong = " and ".join(w for w, bad in (("window", k != AUX.pool_kernel), ("stride", s != AUX.pool_stride)) if bad)
    side, want = theirs.shape[-1], ours.shape[-1]
    text = (
        f"pool is a {window(pool)} average pool (kernel {k}, stride {s}) where Section 5 has {AUX.pool_kernel}x"
        f"{AUX.pool_kernel}/{AUX.pool_stride} (kernel {AUX.pool_kernel}, stride {AUX.pool_stride}): yours turns the "
        f"{x.shape[-2]}x{x.shape[-1]} map into {side}x{side}, not {want}x{want}."
    )
    fc1, conv = getattr(student, "fc1", None), getattr(getattr(student, "conv", None), "conv", None)
    channels = conv.out_channels if isinstance(conv, nn.Conv2d) else AUX.conv_channels
    if isinstance(fc1, nn.Linear) and fc1.in_features == channels * side * side:
        text += (
            f" That is why your fc1 takes {fc1.in_features:,} inputs ({channels}x{side}x{side}); with the paper's "
            f"pool it takes {channels}x{want}x{want} = {channels * want * want:,}."
        )
    fix = f"nn.AvgPool2d({AUX.pool_kernel}, stride={AUX.pool_stride})"
    return text + f" Change the pool's {wrong or 'settings'}, not fc1: {fix}."


def compare_dropout(student: nn.Module, reference: nn.Module, x: torch.Tensor) -> None:
    """In training mode, with the same random numbers, the heads must drop the same units of fc1's output."""
    outputs = []
    for module in (reference, student):
        torch.manual_seed(1)
        outputs.append(module.train()(x))
        module.eval()
    if torch.allclose(outputs[0], outputs[1], atol=1e-5):
        return
    dropout = getattr(student, "dropout", None)
    if isinstance(dropout, nn.Module):
        share = (dropout.train()(torch.ones(100_000)) == 0).float().mean().item()
        dropout.eval()
        if abs(share - AUX.dropout) > 0.02:
            raise AssertionError(
                f"in training mode your dropout drops {share:.0%} of its inputs; Section 5 drops {AUX.dropout:.0%}: "
                f"nn.Dropout({AUX.dropout})."
            )
    raise AssertionError(
        "in training mode your head computes something else than the package's: Section 5 has one dropout, "
        f"nn.Dropout({AUX.dropout}), after fc1's ReLU and before fc2, and no other."
    )


# ---- Targeted probes: when a comparison fails, look for the usual mistakes and name the cause ----


class Call(NamedTuple):
    """One leaf submodule as forward() ran it: its path, the module, copies of its input and output."""

    path: str
    module: nn.Module
    input: torch.Tensor | None
    output: torch.Tensor | None


def leaf_calls(module: nn.Module, x: torch.Tensor, prefix: str = "") -> list[Call]:
    """The leaf submodules (those without children) that `module(x)` runs, in the order it runs them, paths
    starting with `prefix`; [] if the forward pass fails. Inputs and outputs are copied as they come (an in-place
    ReLU changes its input afterwards)."""
    calls: list[Call] = []
    started: dict[int, tuple[str, torch.Tensor | None]] = {}
    hooks = []
    for name, sub in module.named_modules():
        if any(True for _ in sub.children()):
            continue
        path = ".".join(p for p in (prefix, name) if p)

        def before(m: nn.Module, args: tuple, path: str = path) -> None:
            first = args[0] if args and isinstance(args[0], torch.Tensor) else None
            started[id(m)] = (path, None if first is None else first.detach().clone())

        def after(m: nn.Module, args: tuple, out: object) -> None:
            path, value = started.pop(id(m), ("?", None))
            calls.append(Call(path, m, value, out.detach().clone() if isinstance(out, torch.Tensor) else None))

        hooks += [sub.register_forward_pre_hook(before), sub.register_forward_hook(after)]
    try:
        module(x)
    except Exception:
        return []
    finally:
        for hook in hooks:
            hook.remove()
    return calls


def kind_of(module: nn.Module) -> str | None:
    """What a leaf computes, in words ("1x1 conv", "max pool", "ReLU", ...); None for what computes nothing."""
    if isinstance(module, (nn.Identity, nn.Flatten)):
        return None
    if isinstance(module, nn.Conv2d):
        return f"{module.kernel_size[0]}x{module.kernel_size[1]} conv"
    kinds = {
        nn.MaxPool2d: "max pool",
        nn.AvgPool2d: "average pool",
        nn.AdaptiveAvgPool2d: "adaptive average pool",
        nn.AdaptiveMaxPool2d: "adaptive max pool",
        nn.ReLU: "ReLU",
        nn.Linear: "fully connected layer",
        nn.Dropout: "dropout",
        nn.BatchNorm2d: "batch norm",
    }
    return next((word for cls, word in kinds.items() if isinstance(module, cls)), type(module).__name__)


POOLS = ("max pool", "average pool", "adaptive average pool", "adaptive max pool")


def window(pool: nn.Module) -> str:
    """A pooling layer's window as the paper writes it: "5x5/3" is kernel 5, stride 3."""
    if not hasattr(pool, "kernel_size"):
        return f"adaptive (to {pool.output_size})"
    (k, _), (s, _) = (nn.modules.utils._pair(getattr(pool, a)) for a in ("kernel_size", "stride"))
    return f"{k}x{k}/{s}"


def part_words(path: str) -> str | None:
    """The package's part a path lies in, in words ("the pool projection"); None if it is not one of them."""
    known = max((p for p in PARTS if path == p or path.startswith(p + ".")), key=len, default=None)
    return PARTS[known] if known else None


def named(their_path: str, our_path: str) -> str:
    """A learner's layer by its own path and the package's part it plays: "branch4[0].conv (the pool projection)"."""
    words = part_words(our_path)
    return f"{written(their_path)} ({words})" if words else written(their_path)


def structure_message(student: nn.Module, reference: nn.Module, x: torch.Tensor, part: str = "") -> str | None:
    """Compare, by kind and in order, the layers the two run: a pool of another kind, the same layers in another
    order, a ReLU in front of a convolution. `part` is the submodules' path ("branch4"; "" for the whole module).
    Called only once a comparison has failed: none of these is wrong in itself where the results agree."""
    ours = [(c, k) for c in leaf_calls(reference, x, part) if (k := kind_of(c.module))]
    theirs = [(c, k) for c in leaf_calls(student, x, part) if (k := kind_of(c.module))]
    if not ours or not theirs:
        return None
    # A pool of another kind where the paper has one.
    our_pools = [c for c, k in ours if k in POOLS]
    their_pools = [c for c, k in theirs if k in POOLS]
    if len(our_pools) == len(their_pools) == 1 and type(our_pools[0].module) is not type(their_pools[0].module):
        mine, paper = their_pools[0], our_pools[0]
        does = {nn.MaxPool2d: "takes the maximum of each window", nn.AvgPool2d: "averages each window"}
        article = "an" if kind_of(mine.module)[0] in "aeiou" else "a"
        return (
            f"{named(mine.path, paper.path)} is {article} {kind_of(mine.module)} where the paper has a "
            f"{window(paper.module)} {kind_of(paper.module)} (kernel {window(paper.module).replace('/', ', stride ')}),"
            f" which {does.get(type(paper.module), 'pools')}: {constructor(paper.module)}."
        )
    # The same layers in another order (ReLUs aside).
    our_layers = [(c, k) for c, k in ours if k != "ReLU"]
    their_layers = [(c, k) for c, k in theirs if k != "ReLU"]
    if sorted(k for _, k in our_layers) == sorted(k for _, k in their_layers) and [k for _, k in our_layers] != [
        k for _, k in their_layers
    ]:
        first = next(i for i, ((_, a), (_, b)) in enumerate(zip(their_layers, our_layers, strict=True)) if a != b)
        early, paper_first = their_layers[first], our_layers[first]
        match = next(c for c, k in our_layers if k == early[1])
        order = ", then ".join(part_words(c.path) or f"the {k}" for c, k in our_layers)
        why = " The projection reduces the pooled channels: pool first, then project." if part == "branch4" else ""
        return (
            f"your {written(part) if part else 'module'} runs {named(early[0].path, match.path)} before "
            f"{part_words(paper_first[0].path) or 'the ' + paper_first[1]}; the paper's order is {order}.{why}"
        )
    # A ReLU in front of a convolution that the paper does not precede with one.
    their_convs = [i for i, (_, k) in enumerate(theirs) if k.endswith("conv")]
    our_convs = [i for i, (_, k) in enumerate(ours) if k.endswith("conv")]
    if len(their_convs) == len(our_convs):
        for i, j in zip(their_convs, our_convs, strict=True):
            if i > 0 and theirs[i - 1][1] == "ReLU" and not (j > 0 and ours[j - 1][1] == "ReLU"):
                return relu_before_message(theirs[i][0].path, ours[j][0].path)
    return None


def relu_before_message(their_path: str, our_path: str) -> str:
    return (
        f"a ReLU runs before {named(their_path, our_path)}: in GoogLeNet the ReLU comes after its convolution "
        "(convolution, then ReLU, as BasicConv2d does), so the convolution reads its input as it is, negative values "
        "included."
    )


def constructor(pool: nn.Module) -> str:
    """The package's pool as a learner would build it."""
    if isinstance(pool, nn.MaxPool2d):
        (k, _), (s, _), (p, _) = (nn.modules.utils._pair(v) for v in (pool.kernel_size, pool.stride, pool.padding))
        return f"nn.MaxPool2d({k}, stride={s}, padding={p}{', ceil_mode=True' if pool.ceil_mode else ''})"
    if isinstance(pool, nn.AvgPool2d):
        return f"nn.AvgPool2d({pool.kernel_size}, stride={pool.stride})"
    return repr(pool)


def input_message(student: nn.Module, reference: nn.Module, x: torch.Tensor, part: str = "") -> str | None:
    """With the package's weights in both: the first convolution or linear layer whose input differs. If the
    learner's input is the package's with the negative values clipped, a ReLU (maybe F.relu) runs in front of it."""
    layers = (nn.Conv2d, nn.Linear)
    ours = [c for c in leaf_calls(reference, x, part) if isinstance(c.module, layers)]
    theirs = [c for c in leaf_calls(student, x, part) if isinstance(c.module, layers)]
    for mine, paper in zip(theirs, ours, strict=False):
        if mine.input is None or paper.input is None or mine.input.shape != paper.input.shape:
            return None
        if torch.allclose(mine.input, paper.input, atol=1e-5):
            continue
        if paper.input.min() < 0 and torch.allclose(mine.input, F.relu(paper.input), atol=1e-5):
            return relu_before_message(mine.path, paper.path)
        return None
    return None


def changes_in_eval(student: nn.Module, x: torch.Tensor) -> bool:
    """True if the learner's module, in eval mode, answers the same input differently on a second call."""
    outputs = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        try:
            outputs.append(student(x.clone()))  # a copy each time: a forward that writes into its input changes x
        except Exception:
            return False
    a, b = outputs
    return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape and not torch.equal(a, b)


def relu_after(out: torch.Tensor, expected: torch.Tensor) -> bool:
    """True if `out` is the package's output with its negative values set to 0: one ReLU too many at the end."""
    return bool(out.shape == expected.shape and expected.min() < 0 and torch.allclose(out, F.relu(expected), atol=1e-5))


def failure_message(student: nn.Module, x: torch.Tensor) -> str | None:
    """A forward pass that raised: if it failed in a fully connected layer fed a wrongly flattened tensor, say so."""
    entered: list[tuple[str, nn.Module, torch.Size | None]] = []
    hooks = []
    for name, sub in student.named_modules():
        if name and not any(True for _ in sub.children()):

            def before(m: nn.Module, args: tuple, name: str = name) -> None:
                first = args[0] if args and isinstance(args[0], torch.Tensor) else None
                entered.append((name, m, None if first is None else first.shape))

            hooks.append(sub.register_forward_pre_hook(before))
    try:
        student(x)
    except Exception:
        pass
    finally:
        for hook in hooks:
            hook.remove()
    if not entered or not isinstance(entered[-1][1], nn.Linear) or entered[-1][2] is None:
        return None
    name, module, got = entered[-1]
    batch, size = x.shape[0], "x".join(map(str, got))
    if len(got) == 1 or (got[0] != batch and got.numel() == batch * module.in_features):
        return (
            f"{describe(name)} got one tensor of shape ({size}) for a batch of {batch} images: torch.flatten(x) (like "
            "x.view(-1)) flattens the batch dimension too. Flatten each image on its own, keeping dimension 0: "
            "torch.flatten(x, 1), that is start_dim=1."
        )
    if len(got) > 2:
        return (
            f"{describe(name)} got a {size} tensor: a fully connected layer reads one vector per image, so flatten "
            "the map first: torch.flatten(x, 1) turns (N, C, H, W) into (N, C*H*W)."
        )
    return None


# ---- Robustness: the learner's module may raise anything, return anything, or never return ----

TIMEOUT_S = 20.0  # the checks take well under a second on the small inputs; a module still running is stuck


class _Stop(BaseException):
    """Raised inside the learner's code to end a check (a BaseException, so that `except Exception` blocks, the
    learner's or the checks', do not swallow it); `check_module` turns it into an AssertionError."""


class _OutOfTime(_Stop):
    pass


def learner_frame(error: BaseException) -> str:
    """Where in the learner's own code (not PyTorch's, not this package's) `error` was raised: " in forward, line 7
    (`return x.double()`)", or "" when it was not raised there."""
    package = str(Path(__file__).parent)
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if not f.filename.startswith(package) and f"{os.sep}torch{os.sep}" not in f.filename
    ]
    if not frames:
        return ""
    frame = frames[-1]
    code = f" (`{frame.line.strip()}`)" if frame.line else ""
    return f" in {frame.name}, line {frame.lineno}{code}"


def watched(cls: type[nn.Module]) -> tuple[type[nn.Module], list[nn.Module]]:
    """A subclass of the learner's class (with its name) whose instances check what the parts of Figure 2 and
    Section 5 return: one tensor, in the input's dtype. A mistake raises _Stop naming the part. The learner's class
    itself is not changed; the list collects the instances made."""
    made: list[nn.Module] = []

    def check_output(name: str):
        def hook(module: nn.Module, args: tuple, out: object) -> None:
            part = describe(name) if name else f"your {cls.__name__}'s forward"
            if not isinstance(out, torch.Tensor):
                what = "None (is a `return` missing?)" if out is None else f"a {type(out).__name__}"
                raise _Stop(f"{part} returns {what}, not a tensor: it must return one (N, C, H, W) tensor.")
            given = args[0] if args and isinstance(args[0], torch.Tensor) else None
            if given is not None and given.is_floating_point() and out.dtype != given.dtype:
                raise _Stop(
                    f"{part} returns {str(out.dtype).removeprefix('torch.')} values for a "
                    f"{str(given.dtype).removeprefix('torch.')} input: keep the input's dtype (no .double() or "
                    "tensors of another dtype made inside it)."
                )

        return hook

    class Watched(cls):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            for name, module in self.named_modules():
                if name == "" or name in PARTS:
                    module.register_forward_hook(check_output(name))
            made.append(self)

    Watched.__name__, Watched.__qualname__, Watched.__module__ = cls.__name__, cls.__qualname__, cls.__module__
    return Watched, made


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise _OutOfTime inside the block's code after `seconds` (a SIGALRM timer; in the main thread only, where
    Python runs signal handlers: a notebook's cells run there). Elsewhere the block runs without a limit."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def out_of_time(signum: int, frame: object) -> None:
        raise _OutOfTime()

    previous = signal.signal(signal.SIGALRM, out_of_time)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_module(kind: str, cls: type[nn.Module], show: bool = False, timeout: float = TIMEOUT_S) -> bool:
    """True if `cls` computes what the package's module of this kind computes; else AssertionError saying why.

    kind: "naive" (NaiveInception, Figure 2a), "inception" (Inception, Figure 2b) or "aux" (InceptionAux).
    cls: the learner's class, taking the package class's arguments and naming its parts as the package does.
    show: display the package's own code first (the answer).
    timeout: seconds the checks may take; a module still running then (an endless loop) fails the check.

    Whatever the learner's module does, the answer is an AssertionError with one message: a part that returns a
    tuple, None or another dtype is named; an error raised inside it (in eval or in training mode) is named with
    where in the learner's code it came from; a module that never returns is stopped after `timeout` seconds.
    """
    if kind not in SETUPS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, SETUPS))}, got {kind!r}")
    if not isinstance(show, bool):
        raise ValueError(f"show must be True or False, got {show!r}")
    made: list[nn.Module] = []
    if isinstance(cls, type) and issubclass(cls, nn.Module):
        cls_checked, made = watched(cls)
    else:
        cls_checked = cls  # compare_module says what to pass instead
    name = getattr(cls, "__name__", type(cls).__name__)
    try:
        with time_limit(timeout):
            return compare_module(kind, cls_checked, show)
    except _OutOfTime as error:
        where = learner_frame(error) or " (in its constructor or forward)"
        raise AssertionError(
            f"your {name} did not finish within {timeout:g} s{where}: is there a loop that never ends? (The check "
            "runs it on a 2-image input, which takes well under a second.)"
        ) from None
    except _Stop as error:
        raise AssertionError(str(error)) from None
    except AssertionError:
        raise
    except Exception as error:
        mode = " in training mode" if made and made[-1].training else ""
        said = str(error).strip().split("\n")[0][:300]
        raise AssertionError(f"your {name} raised {type(error).__name__}{mode}{learner_frame(error)}: {said}") from None


__all__ = ["check_module"]
