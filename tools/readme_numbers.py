"""Fill the measured numbers of the README and of the notebooks' prose from the committed files that hold them, so
that the prose cannot drift from the results.

A generated number stands between two markers; the opening one names where it comes from and, optionally, a
Python format spec:

    | notebook 04 | ... | <!-- numbers:nb04.test_acc .1% -->35.5%<!-- /numbers --> test accuracy |

The same markers work in the markdown cells of the notebooks. `SOURCE.FIELD` picks the number:
- `nbNN.FIELD` (nb03, nb04, nb05): parsed from that notebook's stored outputs (stdout, in cell order), as FIELDS
  below describes: the first line a field's pattern matches, or a value derived from other fields;
- `reference.FIELD`: a field of gooknet_helpers/reference/metadata.json (the shipped reference run);
- `ablations.FIELD`: a field of gooknet_helpers/reference/ablations.json (notebook 04's experiments);
- `results/NAME.FIELD`: a field of benchmarks/results/NAME.json.
A dotted FIELD reaches into nested JSON objects (`reference.data.train_images`) and lists
(`ablations.comparisons.aux_heads.interval.0`). Besides Python's format specs, `pt` gives a fraction in percentage
points (`+.2pt`: 0.0123 as +1.23). JupyterLab, GitHub, the site and
the slides render the markers as nothing, so the prose reads as before.

A sentence whose words (not only its numbers) depend on results is guarded by a claim, an expression over the same
keys that must hold for the sentence to be true; it stands at the end of the sentence and renders as nothing too:

    Each aux head beats the probe at the layer it reads.<!-- claim: nb05.aux1 > nb05.probe_4a -->

    python tools/readme_numbers.py          # rewrite the numbers that differ (make readme, make notebooks)
    python tools/readme_numbers.py --check  # change nothing; exit 1 and list stale numbers and false claims
    python tools/readme_numbers.py --untied notebooks/04_training_cifar10.ipynb  # result-like numbers not marked

A marker or claim never opens a line (CommonMark would read the line as an HTML block): a claim goes at the end of
the sentence it guards. A marker whose source is missing or lacks the field is an error (exit 2), never silently
left as it was: after adding a cell that prints a new number, the notebook must be executed (make notebooks) before
its prose can quote it.
A claim that no longer holds is exit 1 in both modes: its sentence must be rewritten by hand.

Every result-like number in the prose of notebooks 04 and 05 is marked (tests/test_prose_numbers.py, with
`untied_numbers`): a number with a unit of a result (%, points, minutes, s, images/s, MB, x), a decimal, or a whole
number above 10, unless it is a year, an arXiv id, a layer's name or size (3a, 5x5, 32x32), a reference (section 4,
notebook 03) or listed in GIVEN with the reason it is not a result (a fact of CIFAR-10, a number quoted from a paper).

The GPU table between `<!-- gpu-check:start -->` and `<!-- gpu-check:end -->` is rendered whole from
benchmarks/results/gpu_check.json (`benchmarks/gpu_table.py`; every item "unmeasured" while that file does not exist).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import gpu_table  # benchmarks/gpu_table.py: the GPU table from gpu_check.json, without torch

MARKER = re.compile(r"<!-- numbers:(?P<key>\S+)(?: (?P<spec>\S+))? -->(?P<value>.*?)<!-- /numbers -->", re.DOTALL)
CLAIM = re.compile(r"<!-- claim: (?P<expression>.*?) -->", re.DOTALL)
KEY = re.compile(r"(?<![\w.])(?:nb\d\d|reference|ablations|results/[\w-]+)(?:\.\w+)+")
README = Path("README.md")
GUIDE = Path("docs/teachers_guide.md")
NOTEBOOK_03 = Path("notebooks/03_full_googlenet.ipynb")
NOTEBOOK_04 = Path("notebooks/04_training_cifar10.ipynb")
NOTEBOOK_05 = Path("notebooks/05_what_it_learned.ipynb")
NOTEBOOKS = {"nb03": NOTEBOOK_03, "nb04": NOTEBOOK_04, "nb05": NOTEBOOK_05}
REFERENCE = Path("gooknet_helpers/reference/metadata.json")
ABLATIONS = Path("gooknet_helpers/reference/ablations.json")
RESULTS = Path("benchmarks/results")


def _count(text: str) -> int:
    return int(text.replace(",", ""))


def _percent(text: str) -> float:
    """ "85.85" -> 0.8585, rounded to the digits printed (85.85 / 100 is 0.8584999..., which would print as 85.8%)."""
    decimals = len(text.partition(".")[2])
    return round(float(text) / 100, decimals + 2)


def _text(text: str) -> str:
    return text


@dataclass(frozen=True)
class Printed:
    """A number that a notebook prints: group `group` of the first match of `pattern` in its stored stdout."""

    pattern: str
    convert: Callable[[str], object] = float
    group: int = 1


@dataclass(frozen=True)
class Derived:
    """A number computed from other fields of the same notebook (their FIELD names, in order)."""

    fields: tuple[str, ...]
    compute: Callable[..., object]


RECIPE = r"TrainConfig\(epochs=(?P<epochs>\d+), batch_size=(?P<batch>\d+), lr=(?P<lr>[\d.]+), warmup=(?P<warmup>[\d.]+)"
RECIPE += r", momentum=(?P<momentum>[\d.]+), weight_decay=(?P<decay>[\d.e-]+), label_smoothing=(?P<smoothing>[\d.]+)"
RECIPE += r", width=(?P<width>[\d.]+)"
DEMO = RECIPE + r"[^\n]*\ntraining on: [^\n]*?(?P<train>[\d,]+) train /"  # the budget cell: its config, its data

TOTALS = (
    r"(?m)^total\s+\|\s+[\d,]+\s+[\d,]+\s+\|\s+[\d,]+\s+[\d,]+\s+(\d+)%\s+\|\s+[\d,]+\s+[\d,]+\s+(\d+)%"  # 05's table
)

# Every field of the notebooks' stored outputs: notebook -> field -> how to read it. The first match wins, so a
# pattern names text that only its own cell prints.
FIELDS: dict[str, dict[str, Printed | Derived]] = {
    "nb03": {
        "bn_params": Printed(r"batch norm instead of bias: ([+-][\d,]+) parameters", _count),
        "bn_params_aux": Printed(
            r"batch norm instead of bias: [^\n]*with the aux heads: ([+-][\d,]+) parameters", _count
        ),
        "bn_aux_extra": Derived(("bn_params_aux", "bn_params"), lambda aux, plain: aux - plain),
        "branch3_params": Printed(r"3x3 instead of 5x5 in branch 3: ([+-][\d,]+) parameters", _count),
        "min_input_pool2": Printed(r"smallest input with the 2x2 pool before stage 5: (\d+) pixels", _count),
        "min_input": Printed(
            r"smallest input with the 2x2 pool before stage 5: \d+ pixels, with the paper's 3x3: (\d+)", _count
        ),
    },
    "nb04": {
        "test_acc": Printed(r"test accuracy (\d+(?:\.\d+)?)% after \d+ s of training", _percent),
        "train_s": Printed(r"test accuracy \d+(?:\.\d+)?% after (\d+) s of training", _count),
        "images_per_s": Printed(r"([\d,]+) training images/s", _count),
        "data_fraction": Printed(r"making batches: (\d+(?:\.\d+)?)% of the training time", _percent),
        "pipeline_images_per_s": Printed(r"input pipeline: ([\d,]+) images/s", _count),
        "uint8_mb": Printed(r"values = ([\d.]+) MB as uint8"),
        "float32_mb": Printed(r"MB as uint8, ([\d.]+) MB as float32"),
        "side_3a": Printed(r"small stem \(CIFAR preset\)\s+32x32 input -> 3a (\d+x\d+)", _text),
        "side_4a": Printed(r"small stem \(CIFAR preset\)\s+32x32 input -> 3a \d+x\d+, 4a (\d+x\d+)", _text),
        "side_5a": Printed(r"small stem \(CIFAR preset\)\s+32x32 input -> [^\n]*5a (\d+x\d+)", _text),
        "imagenet_3a": Printed(r"ImageNet stem \(torchvision preset\)\s+32x32 input -> 3a (\d+x\d+)", _text),
        "imagenet_4a": Printed(
            r"ImageNet stem \(torchvision preset\)\s+32x32 input -> 3a \d+x\d+, 4a (\d+x\d+)", _text
        ),
        "imagenet_5a": Printed(r"ImageNet stem \(torchvision preset\)\s+32x32 input -> [^\n]*5a (\d+x\d+)", _text),
        "params": Printed(r"inception  width 1\.0\s+([\d,]+)", _count),
        "macs": Printed(r"inception  width 1\.0\s+[\d,]+\s+([\d,]+)", _count),
        "naive_width": Printed(r"naive\s+width ([\d.]+)\s+[\d,]+\s+[\d,]+ <- same MACs", _text),
        "naive_params": Printed(r"naive\s+width [\d.]+\s+([\d,]+)\s+[\d,]+ <- same MACs", _count),
        "naive_macs": Printed(r"naive\s+width [\d.]+\s+[\d,]+\s+([\d,]+) <- same MACs", _count),
        "recipe_epochs": Printed(RECIPE, _count, "epochs"),
        "recipe_batch": Printed(RECIPE, _count, "batch"),
        "recipe_lr": Printed(RECIPE, float, "lr"),
        "recipe_warmup": Printed(RECIPE, float, "warmup"),
        "recipe_momentum": Printed(RECIPE, float, "momentum"),
        "recipe_weight_decay": Printed(RECIPE, float, "decay"),
        "recipe_smoothing": Printed(RECIPE, float, "smoothing"),
        "recipe_keep": Derived(("recipe_smoothing",), lambda smoothing: 1 - smoothing),
        "recipe_lr_per_128": Derived(("recipe_lr", "recipe_batch"), lambda lr, batch: lr * 128 / batch),
        "target_true": Printed(r"smoothed target: true class ([\d.]+)"),
        "target_other": Printed(r"smoothed target: true class [\d.]+, every other class ([\d.]+)"),
        "demo_epochs": Printed(DEMO, _count, "epochs"),
        "demo_width": Printed(DEMO, float, "width"),
        "demo_train": Printed(DEMO, _count, "train"),
        "minutes": Printed(r"this notebook ran for (\d+) minutes", _count),
    },
    "nb05": {
        "main_acc": Printed(r"main classifier: ([\d.]+)% of [\d,]+ test images right", _percent),
        "test_images": Printed(r"main classifier: [\d.]+% of ([\d,]+) test images right", _count),
        "grey_untrained": Printed(r"(?m)^untrained\s+grey share ([\d.]+)"),
        "grey_trained": Printed(r"(?m)^trained\s+grey share ([\d.]+)"),
        "grey_ratio": Derived(("grey_trained", "grey_untrained"), lambda trained, untrained: trained / untrained),
        "mostly_grey": Printed(r"(?m)^trained\s+grey share [^\n]*mostly grey \(> 0\.8\): (\d+) of", _count),
        "filters": Printed(r"(?m)^trained\s+grey share [^\n]*mostly grey \(> 0\.8\): \d+ of (\d+)", _count),
        "mostly_flat": Printed(r"(?m)^trained\s+grey share [^\n]*mostly flat \(> 0\.5\): (\d+)", _count),
        **{
            f"energy_{name}": Printed(
                rf"energy share / channel share, mean over the nine modules: [^\n]*{re.escape(label)} ([\d.]+)"
            )
            for name, label in (("1x1", "1x1"), ("3x3", "3x3"), ("5x5", "5x5"), ("pool", "pool"))
        },
        "ablation_s": Printed(r"36 experiments on [\d,]+ test images: (\d+) s", _count),
        "ablation_images": Printed(r"36 experiments on ([\d,]+) test images", _count),
        "ablation_minutes": Derived(("ablation_s",), lambda seconds: seconds / 60),
        **{
            f"stage{stage}_{branch}": Printed(
                rf"(?m)^stage {stage}\s+" + r"\s+".join(r"(-?[\d.]+)" for _ in range(4)), float, index + 1
            )
            for stage in "345"
            for index, branch in enumerate(("1x1", "3x3", "5x5", "pool"))
        },
        **{
            f"stage{stage}_{end}": Printed(rf"stage {stage}: drops from (-?[\d.]+) to (-?[\d.]+) points", float, group)
            for stage in "345"
            for end, group in (("min", 1), ("max", 2))
        },
        "max_se": Printed(r"largest standard error of a drop: ([\d.]+) points"),
        **{
            f"damage_stage{stage}": Printed(
                r"share of the damage\s+by stage: 3 ([\d.]+), 4 ([\d.]+), 5 ([\d.]+)", float, index + 1
            )
            for index, stage in enumerate("345")
        },
        "damage_trend": Printed(r"share of the damage\s+by stage: [^\n]*: it ([^\n]+)", _text),
        **{
            f"channels_stage{stage}": Printed(
                r"share of the channels by stage: 3 ([\d.]+), 4 ([\d.]+), 5 ([\d.]+)", float, index + 1
            )
            for index, stage in enumerate("345")
        },
        "channels_trend": Printed(r"share of the channels by stage: [^\n]*: it ([^\n]+)", _text),
        "largest_drop": Printed(r"largest drop: ([\d.]+) points"),
        "largest_drop_branch": Printed(r"largest drop: [\d.]+ points, switching off ([^\n]+) branch", _text),
        **{
            f"probe_{layer}": Printed(rf"(?m)^{layer}\s+probe\s+([\d.]+)%", _percent)
            for layer in ("conv3", "3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b")
        },
        "probe_images": Printed(r"probes trained on ([\d,]+) images", _count),
        "aux1": Printed(r"aux1 \(after 4a\) ([\d.]+)%", _percent),
        "aux2": Printed(r"aux2 \(after 4d\) ([\d.]+)%", _percent),
        "main": Printed(r"main classifier \(after 5b\) ([\d.]+)%", _percent),
        "last_three_gain": Derived(("probe_5b", "probe_4d"), lambda top, middle: 100 * (top - middle)),
        "aux2_behind_main": Derived(("main", "aux2"), lambda main, aux2: 100 * (main - aux2)),
        "cam_original": Printed(r"probability of the predicted class, mean over [\d,]+ test images: ([\d.]+)"),
        "cam_own": Printed(r"top 20% of its own Grad-CAM blanked:\s+([\d.]+)"),
        "cam_other": Printed(r"top 20% of another image's map blanked:\s+([\d.]+)"),
        "cam_margin": Printed(r"own map minus the other's: ([+-]?[\d.]+)"),
        "cam_margin_se": Printed(r"own map minus the other's: [+-]?[\d.]+ \(standard error ([\d.]+)"),
        "cam_own_fall": Derived(("cam_original", "cam_own"), lambda original, own: original - own),
        "cam_other_fall": Derived(("cam_original", "cam_other"), lambda original, other: original - other),
        "confidence": Printed(r"mean probability of the predicted class ([\d.]+)"),
        "accuracy": Printed(r"mean probability of the predicted class [\d.]+, accuracy ([\d.]+)"),
        "above_095": Printed(r"above 0\.95 for ([\d.]+)% of the test images", _percent),
        "two_3x3": Printed(r"(?m)^two 3x3\s+5x5\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+(\d+)%", _percent),
        "two_3x3_saving": Derived(("two_3x3",), lambda share: 1 - share),
        "asymmetric_7x7": Printed(r"(?m)^1x7 then 7x1\s+7x7\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+(\d+)%", _percent),
        "modules_fig5": Printed(TOTALS, _percent, 1),
        "modules_fig6": Printed(TOTALS, _percent, 2),
        "modules_fig6_saving": Derived(("modules_fig6",), lambda share: 1 - share),
        "wide_middle": Printed(r"mid_channels='out'\):\s+[\d,]+ \((\d+)%\)", _percent),
        "minutes": Printed(r"this notebook ran for (\d+) minutes", _count),
    },
}
NB04_FIELDS = FIELDS["nb04"]


class SourceError(Exception):
    """A marker names a source file that is missing, or a field that its source does not hold."""


def notebook_stdout(path: Path) -> str:
    """Every stdout text that the committed notebook at `path` stores, in cell order."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    outputs = [out for cell in cells if cell["cell_type"] == "code" for out in cell["outputs"]]
    return "".join("".join(out["text"]) for out in outputs if out.get("name") == "stdout")


class Sources:
    """The committed sources under `root`, each file read once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stdout: dict[str, str] = {}
        self._json: dict[Path, object] = {}

    def stdout(self, notebook: str) -> str:
        if notebook not in self._stdout:
            path = self.root / NOTEBOOKS[notebook]
            if not path.exists():
                raise SourceError(f"{NOTEBOOKS[notebook]} does not exist")
            self._stdout[notebook] = notebook_stdout(path)
        return self._stdout[notebook]

    def notebook_field(self, notebook: str, field: str) -> object:
        fields = FIELDS[notebook]
        if field not in fields:
            raise SourceError(f"{notebook} has no field {field!r} (known: {', '.join(fields)})")
        how = fields[field]
        if isinstance(how, Derived):
            return how.compute(*(self.notebook_field(notebook, name) for name in how.fields))
        match = re.search(how.pattern, self.stdout(notebook))
        if match is None:
            raise SourceError(
                f"{NOTEBOOKS[notebook]}'s stored outputs have no line matching {how.pattern!r} (for "
                f"{notebook}.{field}): execute the notebook (make notebooks) if a cell that prints it is new"
            )
        return how.convert(match[how.group])

    def json_field(self, relative: Path, field: str) -> object:
        path = self.root / relative
        if relative not in self._json:
            if not path.exists():
                raise SourceError(f"{relative} does not exist")
            self._json[relative] = json.loads(path.read_text(encoding="utf-8"))
        value = self._json[relative]
        for part in field.split("."):
            if isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            elif isinstance(value, dict) and part in value:
                value = value[part]
            else:
                raise SourceError(f"{relative} has no field {field!r}")
        return value

    def lookup(self, key: str) -> object:
        """The value that `key` (SOURCE.FIELD, see the module docstring) names."""
        source, _, field = key.partition(".")
        if source in NOTEBOOKS:
            return self.notebook_field(source, field)
        if source == "reference":
            return self.json_field(REFERENCE, field)
        if source == "ablations":
            return self.json_field(ABLATIONS, field)
        if source.startswith("results/"):
            return self.json_field(RESULTS / f"{source.removeprefix('results/')}.json", field)
        raise SourceError(
            f"unknown source {source!r} in {key!r} (nb03, nb04, nb05, reference, ablations or results/NAME)"
        )


def lookup(root: Path, key: str) -> object:
    """The value that `key` names in the committed sources under `root`."""
    return Sources(root).lookup(key)


def format_value(value: object, spec: str) -> str:
    """`format(value, spec)`, and one spec of our own: a fraction in percentage points, `+.2pt` (0.0123 -> +1.23)."""
    if spec.endswith("pt"):
        return format(100 * value, spec.removesuffix("pt") + "f")
    return format(value, spec)


def fill(text: str, root: Path | Sources, where: str = "README") -> tuple[str, list[str]]:
    """`text` with every marked number recomputed, and a line for each number that changed or claim that is false."""
    sources = root if isinstance(root, Sources) else Sources(root)
    changes, missing = [], []

    def replace(match: re.Match) -> str:
        try:
            value = sources.lookup(match["key"])
        except SourceError as error:  # every missing source of the text is named, not only the first
            missing.append(str(error))
            return match[0]
        try:
            new = format_value(value, match["spec"] or "")
        except (TypeError, ValueError) as error:
            problem = f"cannot format {value!r} as {match['spec']!r} ({error})"
            raise SourceError(f"numbers:{match['key']}: {problem}") from None
        if new != match["value"]:
            changes.append(f"numbers:{match['key']}: {where} has {match['value']!r}, the committed source {new!r}")
        return match[0][: match.start("value") - match.start()] + new + "<!-- /numbers -->"

    new_text = MARKER.sub(replace, text)
    if missing:
        raise SourceError("\n".join(dict.fromkeys(missing)))
    return new_text, changes + false_claims(text, sources, where) + line_starts(text, where)


LINE_START = re.compile(r"(?m)^[ \t]*(?:[-*+] |\d+\. )?(<!-- (?:numbers:|claim:))")


def line_starts(text: str, where: str) -> list[str]:
    """A line for each marker or claim that opens a line: CommonMark (JupyterLab, GitHub, the site) reads such a line
    as an HTML block, which ends the paragraph and leaves the markdown on that line unrendered."""
    return [
        f"{where}: a line starts with {match[1]}...: move it after the text before it (an HTML block otherwise)"
        for match in LINE_START.finditer(text)
    ]


def false_claims(text: str, sources: Sources, where: str) -> list[str]:
    """A line for each claim in `text` that its sources do not bear out."""
    lines = []
    for match in CLAIM.finditer(text):
        expression = match["expression"]
        keys = list(dict.fromkeys(KEY.findall(expression)))
        names = {key: f"_v{i}" for i, key in enumerate(keys)}
        code = KEY.sub(lambda m, names=names: names[m[0]], expression)
        values = {names[key]: sources.lookup(key) for key in keys}
        try:
            holds = eval(code, {"__builtins__": {}, "abs": abs, "min": min, "max": max}, values)  # noqa: S307
        except Exception as error:  # a claim that does not even evaluate is as wrong as a false one
            raise SourceError(f"claim {expression!r} in {where}: {error}") from None
        if not holds:
            shown = ", ".join(f"{key} = {sources.lookup(key)!r}" for key in keys)
            lines.append(f"claim: {where}: {expression!r} no longer holds ({shown}): rewrite the sentence after it")
    return lines


GPU_TABLE = re.compile(f"({re.escape(gpu_table.START)}\n)(.*?)({re.escape(gpu_table.END)})", re.DOTALL)


def fill_gpu_table(text: str, root: Path) -> tuple[str, list[str]]:
    """`text` with the GPU table rendered from the committed gpu_check.json, and a line if it changed."""
    match = GPU_TABLE.search(text)
    if match is None:
        return text, []
    table = gpu_table.render_table(gpu_table.load_results(root))
    if match[2] == table:
        return text, []
    change = f"gpu-check table: README differs from the one rendered from {gpu_table.RESULTS}"
    return text[: match.start(2)] + table + text[match.end(2) :], [change]


def fill_notebook(text: str, sources: Sources, name: str) -> tuple[str, list[str]]:
    """The notebook `text` with the numbers of its markdown cells recomputed, and the changes and false claims."""
    nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    changes = []
    errors = []
    for cell in nb.cells:
        if cell.cell_type != "markdown" or ("<!-- numbers:" not in cell.source and "<!-- claim:" not in cell.source):
            continue
        try:
            cell.source, cell_changes = fill(cell.source, sources, f"{name} cell {cell.get('id', '?')}")
        except SourceError as error:
            errors.append(str(error))
            continue
        changes += cell_changes
    if errors:  # the other cells' changes and false claims are reported beside the errors
        raise SourceError("\n".join(dict.fromkeys("\n".join(errors).splitlines())), changes)
    return (nbformat.writes(nb) + "\n" if changes else text), changes


# ---- what must be marked: result-like numbers ----

NUMBER = re.compile(
    r"(?<![\w.,/-])(?P<number>\d+(?:,\d{3})*(?:\.\d+)?(?:e-?\d+)?)"
    r"(?P<tail>x\d+(?:x\d+)?|[a-e]\b|xx\b|(?:%| ?(?:points?|minutes?|hours?|h|s|seconds|MB|GB|images/s|x|times)\b))?"
)
REFERENCE_WORDS = re.compile(
    r"(?:[Ss]ections?|[Nn]otebooks?|Figures?|Table|[Ee]xercises?|[Aa]ppendix|Inception v|ILSVRC|[Cc]apability|RTX|v)"
    r" ?(?:\d+(?:\.\d+)?(?:[-, and]+)?)*$"
)
RESULT_UNITS = ("%", "point", "minute", "hour", "h", "s", "second", "MB", "GB", "images/s", "x", "times")


def prose(markdown: str) -> str:
    """`markdown` without what is not prose: marked numbers, claims and comments, code, link targets, headings'
    numbers."""
    text = MARKER.sub(" ", markdown)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.sub(r"(?m)^(#+ )[\d.]+ ", r"\1", text)


def untied_numbers(markdown: str, given: dict[str, str] | None = None) -> list[str]:
    """The result-like numbers of `markdown` that no marker ties to a source (see the module docstring); `given`:
    numbers that are not results, each with the reason, as they are written with the words after them ("12 epochs"
    leaves "12 epochs" alone, not every 12)."""
    given = given or {}
    text = prose(markdown)
    found = []
    for match in NUMBER.finditer(text):
        number, tail = match["number"], (match["tail"] or "").strip()
        written = number + (match["tail"] or "")
        if tail.startswith("x") and tail[1:2].isdigit() or tail in ("a", "b", "c", "d", "e", "xx"):
            continue  # a size (5x5, 32x32), a module (3a), RTX 30xx
        if tail == "x" and re.match(r" ?\d", text[match.end() :]):
            continue  # a size or a product written out: 9 x 4, 4 x 128
        if any(text.startswith(key, match.start()) for key in given):
            continue
        if REFERENCE_WORDS.search(text[max(0, match.start() - 40) : match.start()]):
            continue  # section 4, notebooks 01-03, Figure 2, Table 1, Inception v3
        if re.fullmatch(r"0\d", number) or re.fullmatch(r"(19|20)\d\d", number) and not tail:
            continue  # a notebook's number, a year
        if re.fullmatch(r"\d{4}\.\d{4,5}", number):
            continue  # an arXiv id
        value = float(number.replace(",", "").split("e")[0]) if "e" not in number else None
        result_like = any(tail.startswith(unit) for unit in RESULT_UNITS if tail) or "." in number or "e" in number
        result_like = result_like or (value is not None and value > 10)
        if result_like:
            found.append(written)
    return found


# Numbers in the prose of notebooks 04 and 05 that are not results, as written with the words after them, and why.
GIVEN: dict[str, dict[str, str]] = {
    "nb04": {
        "50,000": "CIFAR-10 has 50,000 training images",
        "10,000": "CIFAR-10 has 10,000 test images",
        "170 MB": "the size of torchvision's CIFAR-10 download",
        "8 times before": "224 / 28: the downsampling of the paper's stem, from its layers",
        "4% every 8 epochs": "the paper's learning-rate schedule",
        "14 times fewer": "BN-Inception's speed-up, quoted from Ioffe & Szegedy (2015)",
        "128 images": "the unit of the learning rate's rule (0.1 per 128 images)",
        "128 = 512": "4 x 128, the arithmetic of the example command",
        "512 above": "4 x 128, the arithmetic of the example command",
        "16 bits": "the width of bf16 and fp16",
        "512-image slice": "the smoke budget's slice (the tests only; no stored output shows it)",
        "2% below": "the threshold of metrics.learned",
        "93% test": "the collection's GPU goal",
        "0.3)": "the paper's aux loss weight",
        "22-layer": "the paper's network is 22 layers deep",
        "95%": "a 95% t-interval, the rule of ablations.compare_arms (section 8)",
        "1 point wide": "the no-difference rule of ablations.compare_arms (section 8)",
        "0.5%)": "quoted from the paper (Section 5): the aux heads' effect",
        "0.5%\" lies": "quoted from the paper (Section 5): the aux heads' effect",
        "0.5 points": "the paper's +0.5 points",
        "1.5\nbillion": "the paper's budget of multiply-adds",
        "12 epochs": "the GPU budget of benchmarks/ablations.py (ablations.ABLATION_BUDGETS)",
    },
    "nb05": {
        "50,000": "CIFAR-10 has 50,000 training images",
        "5,000, spread": "the probes' training images, a setting of the data cell",
        "36 experiments": "9 modules x 4 branches",
        "2.2 times smaller": "the square root of 5: 10,000 test images against 2,000, the arithmetic of the sample",
        "64 filters": "the paper's conv1 has 64 filters",
        "64 channels": "the width the factorisation cell measures, a setting of that cell",
        "22-layer": "the paper's network is 22 layers deep",
        "20%": "the share of pixels the deletion check blanks, a setting of that cell",
        "1 x n": "a kernel's shape",
        "25 C^2": "a 5x5 kernel's taps, the arithmetic the next cell checks",
        "18 C^2": "two 3x3 kernels' taps, the arithmetic the next cell checks",
        "16 to 48": "Table 1's 5x5 reductions",
        "48)": "Table 1's 5x5 reductions",
        "14 times fewer": "BN-Inception's speed-up, quoted from Ioffe & Szegedy (2015)",
        "0.1, so": "label smoothing's epsilon in notebook 04's recipe",
        "0.91 for K": "the smoothed target for 10 classes, computed in notebook 04",
        "0.2 points": "the v3 paper's gain from label smoothing",
        "0.95": "the threshold of the confidence cell",
        "152 layers": "ResNet-152",
    },
}


def targets(root: Path) -> list[Path]:
    """The files whose prose holds markers: the README, the teacher's guide and every notebook."""
    return [README, GUIDE, *sorted(p.relative_to(root) for p in (root / "notebooks").glob("*.ipynb"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a number is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (default: this checkout)")
    parser.add_argument("--untied", nargs="+", type=Path, metavar="NOTEBOOK", help="list unmarked result numbers")
    args = parser.parse_args(argv)
    if args.untied:
        for path in args.untied:
            nb = nbformat.read(path, as_version=4)
            given = GIVEN.get(f"nb{path.name[:2]}", {})
            for cell in nb.cells:
                if cell.cell_type == "markdown" and (numbers := untied_numbers(cell.source, given)):
                    print(f"{path.name} cell {cell.get('id')}: {', '.join(numbers)}")
        return 0
    sources = Sources(args.root)
    changes, new_texts, errors = [], {}, []
    for relative in targets(args.root):
        path = args.root / relative
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        try:
            if path.suffix == ".ipynb":
                new_text, file_changes = fill_notebook(text, sources, relative.name)
            else:
                new_text, file_changes = fill(text, sources)
                new_text, table_changes = fill_gpu_table(new_text, args.root)
                file_changes += table_changes
        except SourceError as error:
            errors += [f"{relative}: {line}" for line in error.args[0].splitlines()]
            changes += error.args[1] if len(error.args) > 1 else []
            continue
        changes += file_changes
        new_texts[path] = (text, new_text)
    for line in changes:
        print(line)
    if errors:  # after the changes and false claims, so that one run lists everything to do
        print("\n".join(errors), file=sys.stderr)
        return 2
    claims = [line for line in changes if line.startswith("claim: ")]
    if args.check:
        if len(changes) > len(claims):
            print("run: make readme (python tools/readme_numbers.py)")
        return 1 if changes else 0
    for path, (text, new_text) in new_texts.items():
        if new_text != text:
            path.write_text(new_text, encoding="utf-8")
    return 1 if claims else 0


if __name__ == "__main__":
    sys.exit(main())
