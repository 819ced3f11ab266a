"""Check a learner's Inception module, naive module or auxiliary head against the package's, by behaviour.

`check_module(kind, cls)` builds the learner's class and the package's with the same small arguments,
copies the package's weights in, and compares what the two compute: each branch on its own, then the
whole output (shape first, then values), then training-mode dropout for the auxiliary head. A mistake
raises AssertionError with a message in the learner's terms (the submodule names the skeleton fixes):
`module_diagnoses` finds the cause it names, `learner_code` keeps whatever the learner's code does to one message.
"""

from __future__ import annotations

import inspect

import torch
import torch.nn.functional as F
from IPython.display import display
from torch import nn

from . import module_diagnoses as diagnose
from .blocks import Inception, InceptionAux, NaiveInception
from .learner_code import TIMEOUT_S, OutOfTime, Stopped, learner_frame, time_limit, watched
from .module_parts import BRANCHES, describe, shape
from .source import show_code
from .table1 import AUX

# kind: (package class, constructor arguments, input side). Distinct small widths, so a channel count names
# the argument it came from and every branch has its own width.
SETUPS: dict[str, tuple[type[nn.Module], tuple[int, ...], int]] = {
    "naive": (NaiveInception, (10, 2, 4, 6), 8),  # in_channels, ch1x1, ch3x3, ch5x5 (pass-through pool)
    "inception": (Inception, (10, 2, 3, 4, 5, 6, 7), 8),  # in_channels, then Table 1's six columns
    "aux": (InceptionAux, (12, 5), 14),  # in_channels, num_classes; the paper's 14x14 map
}


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
            reasons = (diagnose.structure_message(part_of(student, p), part_of(reference, p), x, p) for p in parts)
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
            raise AssertionError(
                diagnose.shape_message(key.removesuffix(".weight"), theirs[key].shape, value.shape, names)
            )


def part_of(module: nn.Module, path: str) -> nn.Module:
    """The submodule at `path` ("" for the module itself)."""
    return module.get_submodule(path) if path else module


def first_absent(key: str, present: dict[str, nn.Module]) -> str:
    """The outermost submodule on a parameter's path that the learner's module lacks."""
    parts = key.split(".")[:-1]
    return next((".".join(parts[: i + 1]) for i in range(len(parts)) if ".".join(parts[: i + 1]) not in present), key)


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
        raise AssertionError(diagnose.shrink_message(getattr(student, branch), getattr(reference, branch), branch, x))
    if theirs.shape != ours.shape or not torch.allclose(theirs, ours, atol=1e-5):
        names = [n for n, _ in reference.named_modules() if n == branch or n.startswith(branch + ".")]
        theirs_branch, ours_branch = getattr(student, branch), getattr(reference, branch)
        reason = (
            diagnose.structure_message(theirs_branch, ours_branch, x, branch)
            or diagnose.input_message(theirs_branch, ours_branch, x, branch)
            or diagnose.first_difference(reference, student, x, names)
            or f"{part} computes something different."
        )
        raise AssertionError(reason)


def compare_concatenation(student: nn.Module, reference: nn.Module, x: torch.Tensor) -> None:
    """The whole module: the four branch outputs, concatenated along the channels in Figure 2's order."""
    expected = reference(x)
    try:
        out = student(x)
    except Exception as error:
        raise AssertionError(
            diagnose.forward_error(error, x, [getattr(reference, b)(x).shape[1] for b in BRANCHES])
        ) from None
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
    if diagnose.relu_after(out, expected):
        raise AssertionError(
            "a ReLU runs after the concatenation: your output is the package's with its negative values set to 0. "
            "Each convolution has its own ReLU inside its branch; the pool branch passes its input on as it is, "
            "negative values included, and the module adds nothing after torch.cat."
        )
    raise AssertionError(diagnose.concatenation_message(out, [getattr(reference, b)(x) for b in BRANCHES], expected))


def compare_aux(student: nn.Module, reference: nn.Module, x: torch.Tensor) -> None:
    """The auxiliary head (its pool already compared): its output in eval mode, then its dropout in training mode."""
    expected = reference(x)
    try:
        out = student(x)
    except Exception as error:
        reason = diagnose.failure_message(student, x)
        raise AssertionError(
            reason or f"your forward fails on a {shape(x)} input: {type(error).__name__}: {error}"
        ) from None
    if not isinstance(out, torch.Tensor) or out.shape != expected.shape:
        got = shape(out) if isinstance(out, torch.Tensor) else type(out).__name__
        raise AssertionError(f"the head should return {shape(expected)} (images x classes), got {got}.")
    if not torch.allclose(out, expected, atol=1e-5):
        if diagnose.changes_in_eval(student, x):
            raise AssertionError(
                "in eval mode your head gives another output each time it runs: its dropout is still on. "
                "F.dropout(x, p) drops in every mode unless it is given training=self.training; use the module "
                f"self.dropout = nn.Dropout({AUX.dropout}), which model.eval() switches off. Dropout acts in training "
                "only."
            )
        if diagnose.relu_after(out, expected):
            raise AssertionError(
                "a ReLU follows fc2 (the classifier): your head's outputs are never negative. fc2 gives the logits, "
                "which the softmax (inside the cross-entropy loss) turns into probabilities, and a logit must be "
                "free to be negative; Section 5's head ends with the linear layer."
            )
        names = [n for n, _ in reference.named_modules() if n]
        raise AssertionError(
            diagnose.structure_message(student, reference, x)
            or diagnose.input_message(student, reference, x)
            or diagnose.first_difference(reference, student, x, names)
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
        raise AssertionError(diagnose.stride_message(student, pool, x, theirs, ours))
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
    except OutOfTime as error:
        where = learner_frame(error) or " (in its constructor or forward)"
        raise AssertionError(
            f"your {name} did not finish within {timeout:g} s{where}: is there a loop that never ends? (The check "
            "runs it on a 2-image input, which takes well under a second.)"
        ) from None
    except Stopped as error:
        raise AssertionError(str(error)) from None
    except AssertionError:
        raise
    except Exception as error:
        mode = " in training mode" if made and made[-1].training else ""
        said = str(error).strip().split("\n")[0][:300]
        raise AssertionError(f"your {name} raised {type(error).__name__}{mode}{learner_frame(error)}: {said}") from None


__all__ = ["check_module"]
