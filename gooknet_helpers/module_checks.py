"""Check a learner's Inception module, naive module or auxiliary head against the package's, by behaviour.

`check_module(kind, cls)` builds the learner's class and the package's with the same small arguments,
copies the package's weights in, and compares what the two compute: each branch on its own, then the
whole output (shape first, then values), then training-mode dropout for the auxiliary head. A mistake
raises AssertionError with a message in the learner's terms (the submodule names the skeleton fixes).
"""

from __future__ import annotations

import inspect
import re

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


def check_module(kind: str, cls: type[nn.Module], show: bool = False) -> bool:
    """True if `cls` computes what the package's module of this kind computes; else AssertionError saying why.

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
        compare_parameters(student, reference, names)
        student.load_state_dict(reference.state_dict())
        student.eval()
        reference.eval()
        x = torch.randn(2, args[0], side, side)
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
        reason = first_difference(reference, student, x, names) or f"{part} computes something different."
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
        raise AssertionError(forward_error(error, x)) from None
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
    raise AssertionError(concatenation_message(out, [getattr(reference, b)(x) for b in BRANCHES], expected))


def forward_error(error: Exception, x: torch.Tensor) -> str:
    """A forward pass that raised: explain the usual concatenation mistakes."""
    text = str(error)
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
    """The auxiliary head: its pool, its output in eval mode, then its dropout in training mode."""
    if isinstance(getattr(student, "pool", None), nn.Module):
        compare_pool(student.pool(x), reference.pool(x), x)
    expected = reference(x)
    try:
        out = student(x)
    except Exception as error:
        raise AssertionError(f"your forward fails on a {shape(x)} input: {type(error).__name__}: {error}") from None
    if not isinstance(out, torch.Tensor) or out.shape != expected.shape:
        got = shape(out) if isinstance(out, torch.Tensor) else type(out).__name__
        raise AssertionError(f"the head should return {shape(expected)} (images x classes), got {got}.")
    if not torch.allclose(out, expected, atol=1e-5):
        names = [n for n, _ in reference.named_modules() if n]
        raise AssertionError(first_difference(reference, student, x, names) or "your head computes something else.")
    compare_dropout(student, reference, x)


def compare_pool(theirs: torch.Tensor, ours: torch.Tensor, x: torch.Tensor) -> None:
    """The head's pool must be Section 5's 5x5 average pool with stride 3 (14x14 -> 4x4)."""
    if theirs.shape == ours.shape and torch.allclose(theirs, ours, atol=1e-5):
        return
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


__all__ = ["check_module"]
