"""Why a learner's module differs from the package's: the diagnoses behind `module_checks.check_module`'s messages.

Messages that explain a failed comparison from what came out (a weight's shape, a map that shrinks, a
concatenation along the wrong dimension, the aux pool's stride), and probes that rerun the module to find the
usual mistake when the outputs alone do not say it (a missing or extra ReLU, a pool of another kind, layers in
another order, a dropout still on in eval mode, a flatten that takes the batch with it). Each returns a message
in the learner's terms, or None when it finds nothing.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .module_parts import BRANCHES, POOLS, constructor, describe, kind_of, named, part_words, shape, window, written
from .table1 import AUX

# ---- Messages: a comparison failed; say why from what came out ----


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
    if len(ours) == 2:  # a fully connected layer: it reads the flattened map, every channel at every position
        side = math.isqrt(ours[1] // theirs[1]) if theirs[1] and ours[1] % theirs[1] == 0 else 0
        flattened = (
            f"the flattened {theirs[1]}x{side}x{side} = {ours[1]:,} features (channels x height x width), "
            f"not the {theirs[1]} channels alone"
            if side > 1 and side * side * theirs[1] == ours[1]
            else f"the {ours[1]:,} features of the flattened map before it (channels x height x width)"
        )
        return f"{part} takes {named(theirs[1])} inputs where it receives {ours[1]:,}: it reads {flattened}."
    return (
        f"{part} takes {named(theirs[1])} input channels where it receives {named(ours[1])}: its input is what "
        "comes before it (the module's input, or the 1x1 reduction before it)."
    )


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


def forward_error(error: Exception, x: torch.Tensor, widths: list[int] | None = None) -> str:
    """A forward pass that raised: explain the usual concatenation mistakes (`widths`: each branch's channels)."""
    text = str(error)
    added = re.search(
        r"size of tensor \w+ \((\d+)\) must match the size of tensor \w+ \((\d+)\) at non-singleton "
        r"dimension 1",
        text,
    )
    if widths and added:
        return adding_message(widths, (int(added.group(1)), int(added.group(2))))
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


def adding_message(widths: list[int], failed: tuple[int, int] | None = None) -> str:
    """The branches combined element by element (added, summed) where Figure 2 puts them side by side.

    `failed`: the channels of the two outputs whose sum raised (the first pair that differs), when known."""
    listed = f"{', '.join(map(str, widths[:-1]))} and {widths[-1]}"
    where = (
        f"the sum fails at the first two outputs that differ, {failed[0]} and {failed[1]} channels"
        if failed
        else "so the sum fails"
    )
    return (
        f"your forward combines the branches element by element (with + or sum, say): adding outputs position by "
        f"position needs equal shapes, but in the checker's own small test module the {len(widths)} branches make "
        f"{listed} channels, and {where}. Figure 2 does not add them; it puts them side by side along the channels, "
        f"torch.cat([...], dim=1): {' + '.join(map(str, widths))} = {sum(widths)} channels, each branch keeping "
        "its own."
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
