"""The teacher's answer sheet, docs/answer_sheet.md, written from the code the notebooks' checkers run.

    python tools/answer_sheet.py           # (re)write docs/answer_sheet.md
    python tools/answer_sheet.py --check   # exit 1 if it differs from what this script writes (make test checks)

Nothing in the sheet is typed: the exercises are those the notebooks call, in their order
(`answer_checks.nbXX_...`, `module_checks.check_module("kind", ...)`); each numeric answer, its working and the
tolerance come from `gooknet_helpers.answer_checks`; each likely wrong answer (`gooknet_helpers.answer_mistakes`) is
passed to the checker and the sheet quotes what the checker says to it. A write-it-yourself exercise's answer is
the package's own source (what `show=True` displays), and its usual mistakes are small wrong modules, written below,
run through `module_checks.check_module` with the checker's reply quoted.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import inspect
import io
import re
import sys
import textwrap
from pathlib import Path

import nbformat
import torch
from torch import nn

from gooknet_helpers import answer_checks, module_checks
from gooknet_helpers.blocks import BasicConv2d, Inception, InceptionAux, NaiveInception

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SHEET = ROOT / "docs" / "answer_sheet.md"


# ---- usual mistakes in the write-it-yourself exercises: small wrong modules ----


class BatchConcat(NaiveInception):
    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=0)


class NoPoolBranch(NaiveInception):
    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x)], dim=1)


class PoolFirst(NaiveInception):
    def forward(self, x):
        return torch.cat([self.branch4(x), self.branch1(x), self.branch2(x), self.branch3(x)], dim=1)


class Summed(NaiveInception):
    def forward(self, x):
        return self.branch1(x) + self.branch2(x) + self.branch3(x) + self.branch4(x)


class No3x3Reduction(Inception):
    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
        self.branch2 = nn.Sequential(BasicConv2d(in_channels, ch3x3, 3, padding=1))


class Padding1On5x5(Inception):
    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
        self.branch3[1] = BasicConv2d(ch5x5red, ch5x5, 5, padding=1)


class NoPoolProjection(Inception):
    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1))


class AdaptivePool(InceptionAux):
    def __init__(self, in_channels, num_classes):
        super().__init__(in_channels, num_classes)
        self.pool = nn.AdaptiveAvgPool2d(4)


class Dropout05(InceptionAux):
    def __init__(self, in_channels, num_classes):
        super().__init__(in_channels, num_classes)
        self.dropout = nn.Dropout(0.5)


class NoReLU(InceptionAux):
    def __init__(self, in_channels, num_classes):
        super().__init__(in_channels, num_classes)
        self.relu = nn.Identity()


# kind: (what the learner writes, the package's answer, [(a usual mistake in words, a module making it)])
MODULES = {
    "naive": (
        "the naive module's `forward` (Figure 2a)",
        NaiveInception.forward,
        [
            ("concatenating along dimension 0, the batch", BatchConcat),
            ("leaving out the pool branch", NoPoolBranch),
            ("the branches in another order (pool first)", PoolFirst),
            ("adding the branches instead of concatenating them", Summed),
        ],
    ),
    "inception": (
        "the Inception module of Figure 2(b)",
        Inception,
        [
            ("a 3x3 convolution straight on the input, without its 1x1 reduction", No3x3Reduction),
            ("padding 1 on the 5x5 convolution (it needs 2)", Padding1On5x5),
            ("the max pool without its 1x1 projection", NoPoolProjection),
        ],
    ),
    "aux": (
        "the auxiliary classifier of Section 5",
        InceptionAux,
        [
            ("an adaptive average pool to 4x4 instead of the paper's 5x5/3", AdaptivePool),
            ("dropout 0.5 instead of 0.7", Dropout05),
            ("no ReLU after the first fully connected layer", NoReLU),
        ],
    ),
}


def module_reply(kind: str, cls: type[nn.Module]) -> str:
    """What a notebook's check cell prints for `cls`: the checker's verdict, as the learner sees it."""
    torch.manual_seed(0)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            module_checks.check_module(kind, cls)
    except AssertionError as mistake:
        return f"Not yet: {mistake}"
    return "Correct"


def exercise_reply(exercise: answer_checks.Exercise, answer: float) -> str:
    """What `exercise.check(answer)` prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exercise.check(answer)
    return out.getvalue().strip()


# ---- which exercises, in the notebooks' order ----

CALL = re.compile(r"answer_checks\.(nb\d\d_\w+)|module_checks\.check_module\(\"(\w+)\"")


def notebook_exercises(folder: Path = NOTEBOOKS) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(notebook title, [("numeric" | "module", name or kind)])] in the order the notebooks ask them."""
    result = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip()
        found: list[tuple[str, str]] = []
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            for numeric, kind in CALL.findall(cell.source):
                item = ("numeric", numeric) if numeric else ("module", kind)
                if item not in found:
                    found.append(item)
        if found:
            result.append((title, found))
    return result


# ---- the sheet ----


def number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.6g}"


def quote(text: str) -> str:
    """`text` as one Markdown blockquote (the checker's own words)."""
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


def numeric_section(name: str) -> list[str]:
    exercise = getattr(answer_checks, name)
    if not isinstance(exercise, answer_checks.Exercise):
        return hands_on_section(name)
    # The same checker, computing its answer and its wrong answers once (some build whole networks to get them).
    keys = [key for key in ("expected", "mistakes") if hasattr(exercise, key)]
    cached = {key: functools.cache(getattr(exercise, key)) for key in keys}
    exercise = dataclasses.replace(exercise, **cached)
    expected = exercise.expected()
    lines = [
        f"### `{name}`",
        "",
        f"**Question.** {exercise.question}",
        "",
        f"**Answer: {number(expected)}.** {exercise.precision()}",
        "",
        "**Working** (what `check(show=True)` prints):",
        "",
        "```text",
        exercise.working(),
        "```",
        "",
    ]
    mistakes = exercise.mistakes() if hasattr(exercise, "mistakes") else {}
    if mistakes:
        lines += ["**Usual wrong answers**, and what the checker tells each:", ""]
        for value in mistakes:
            lines += [f"- {number(value)}:", "", textwrap.indent(quote(exercise_reply(exercise, value)), "  "), ""]
    return lines


# How many causes each hands-on checker names (with every branch on, another branch off, without normalize,
# a fraction, a percentage): fewer on the stand-in model means two of them gave the same count and merged.
HANDS_ON_CAUSES = {"nb05_switch_off": 6}


def hands_on_section(name: str) -> list[str]:
    """A checker the notebook makes from its model and images: its answer depends on them, so the sheet gives the
    question and the wrong answers it recognises, asked of a small untrained stand-in for their wording only."""
    from gooknet_helpers import CIFAR, GoogLeNet
    from gooknet_helpers.data import normalize

    torch.manual_seed(0)
    model = GoogLeNet(10, **CIFAR, width=0.125)
    # Enough images, and batch-norm statistics taken from them, that each way of switching a branch off gets its own
    # count (the checker keys its wrong answers by count, so equal counts would merge them).
    images = torch.randint(0, 256, (256, 3, 32, 32), dtype=torch.uint8)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.momentum = None  # a plain average over the batches seen
        model.train()(normalize(images))
        labels = model.eval()(normalize(images)).argmax(1).roll(1)
    exercise = getattr(answer_checks, name)(model, images, labels)
    lines = [
        f"### `{name}` (hands-on)",
        "",
        f"**Question.** {exercise.question.replace('these 256 test images', 'the test images the notebook picks')}",
        "",
        "**Answer:** counted on the notebook's own model and test images, so not printed here: in the notebook,",
        "`check(show=True)` prints it with its working:",
        "",
        "```text",
        re.sub(r"# \d+ of \d+, against \d+", "# N of M, against K", exercise.working()),
        "```",
        "",
        "**Usual wrong answers** (each is counted on the same model and images), and what the checker says:",
        "",
    ]
    # Several answers may share one cause (a fraction rounded to 2 or 3 digits): list each cause once.
    mistakes = list(dict.fromkeys(exercise.mistakes().values()))
    if len(mistakes) != HANDS_ON_CAUSES[name]:
        raise SystemExit(f"{name}: the stand-in model gave two wrong answers the same count")
    lines += [f"- {text}" for text in mistakes]
    return lines + [""]


def module_section(kind: str) -> list[str]:
    what, answer, mistakes = MODULES[kind]
    source = textwrap.dedent(inspect.getsource(answer)).rstrip()
    lines = [
        f'### Write it yourself: `module_checks.check_module("{kind}", ...)`',
        "",
        f"The learner writes {what}. **Answer:** the package's own code, which `show=True` displays:",
        "",
        "```python",
        source,
        "```",
        "",
        "**Usual mistakes**, and what the check cell prints for each:",
        "",
    ]
    for words, cls in mistakes:
        lines += [f"- {words}:", "", textwrap.indent(quote(module_reply(kind, cls)), "  "), ""]
    return lines


def sheet(folder: Path = NOTEBOOKS) -> str:
    lines = [
        "# Answer sheet for teachers",
        "",
        "Every exercise of the notebooks, with its answer, its working and the usual wrong answers, each with what",
        "the notebook's checker says to it. Written by `python tools/answer_sheet.py` from the code the checkers run",
        "(`gooknet_helpers/answer_checks.py` and `answer_mistakes.py`, `gooknet_helpers/module_checks.py` and",
        "`module_diagnoses.py`): the answers, the workings and the checker's replies are generated, not typed (for a",
        "write-it-yourself exercise, the script feeds the checker small wrong modules, named by the mistake they",
        "make). `make test` fails when this file differs from what the script writes. Students see an answer only",
        "with `check(show=True)`; the [teacher's guide](teachers_guide.md) says where each exercise sits in the plan.",
        "",
    ]
    for title, items in notebook_exercises(folder):
        lines += [f"## {title}", ""]
        for category, name in items:
            lines += module_section(name) if category == "module" else numeric_section(name)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if the sheet is not current")
    args = parser.parse_args(argv)
    text = sheet()
    current = SHEET.read_text(encoding="utf-8") if SHEET.exists() else None
    if text == current:
        return 0
    if args.check:
        print(f"{SHEET.relative_to(ROOT)} is not current: run python tools/answer_sheet.py")
        return 1
    SHEET.write_text(text, encoding="utf-8")
    print(f"wrote {SHEET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
