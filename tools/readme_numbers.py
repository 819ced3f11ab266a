"""Fill the README's measured numbers from the committed files that hold them, so that the README cannot drift.

A generated number stands between two markers; the opening one names where it comes from and, optionally, a
Python format spec:

    | notebook 04 | ... | <!-- numbers:nb04.test_acc .1% -->35.5%<!-- /numbers --> test accuracy |

`SOURCE.FIELD` picks the number:
- `nb04.FIELD`: parsed from notebook 04's stored outputs, the lines that NB04_FIELDS below describe;
- `reference.FIELD`: a field of gooknet_helpers/reference/metadata.json (the shipped reference run);
- `results/NAME.FIELD`: a field of benchmarks/results/NAME.json.
A dotted FIELD reaches into nested JSON objects (`reference.data.train_images`). GitHub and the site render the
markers as nothing, so the README reads as before.

    python tools/readme_numbers.py          # rewrite README.md where a number differs (make readme, make notebooks)
    python tools/readme_numbers.py --check  # change nothing; exit 1 and list the stale numbers (tests run this)

A marker whose source is missing or lacks the field is an error (exit 2), never silently left as it was.

The GPU table between `<!-- gpu-check:start -->` and `<!-- gpu-check:end -->` is rendered whole from
benchmarks/results/gpu_check.json (`benchmarks/gpu_table.py`; every item "unmeasured" while that file does not exist).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import gpu_table  # benchmarks/gpu_table.py: the GPU table from gpu_check.json, without torch

MARKER = re.compile(r"<!-- numbers:(?P<key>\S+)(?: (?P<spec>\S+))? -->(?P<value>.*?)<!-- /numbers -->", re.DOTALL)
NOTEBOOK_04 = Path("notebooks/04_training_cifar10.ipynb")
REFERENCE = Path("gooknet_helpers/reference/metadata.json")
RESULTS = Path("benchmarks/results")


def _count(text: str) -> int:
    return int(text.replace(",", ""))


def _percent(text: str) -> float:
    return float(text) / 100


# Notebook 04's printed lines: field -> (pattern with one group, conversion). The first match in the stored
# outputs wins, so the main run's summary line (printed before the experiments) is the one read.
NB04_FIELDS: dict[str, tuple[str, Callable[[str], float]]] = {
    "test_acc": (r"test accuracy (\d+(?:\.\d+)?)% after \d+ s of training", _percent),
    "train_s": (r"test accuracy \d+(?:\.\d+)?% after (\d+) s of training", _count),
    "images_per_s": (r"([\d,]+) training images/s", _count),
    "data_fraction": (r"making batches: (\d+(?:\.\d+)?)% of the training time", _percent),
    "pipeline_images_per_s": (r"input pipeline: ([\d,]+) images/s", _count),
}


class SourceError(Exception):
    """A marker names a source file that is missing, or a field that its source does not hold."""


def notebook_stdout(path: Path) -> str:
    """Every stdout text that the committed notebook at `path` stores, in cell order."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    outputs = [out for cell in cells if cell["cell_type"] == "code" for out in cell["outputs"]]
    return "".join("".join(out["text"]) for out in outputs if out.get("name") == "stdout")


def nb04_field(root: Path, field: str) -> float:
    if field not in NB04_FIELDS:
        raise SourceError(f"nb04 has no field {field!r} (known: {', '.join(NB04_FIELDS)})")
    pattern, convert = NB04_FIELDS[field]
    match = re.search(pattern, notebook_stdout(root / NOTEBOOK_04))
    if match is None:
        raise SourceError(f"{NOTEBOOK_04}'s stored outputs have no line matching {pattern!r}")
    return convert(match[1])


def json_field(path: Path, field: str, root: Path) -> object:
    if not path.exists():
        raise SourceError(f"{path.relative_to(root)} does not exist")
    value = json.loads(path.read_text(encoding="utf-8"))
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            raise SourceError(f"{path.relative_to(root)} has no field {field!r}")
        value = value[part]
    return value


def lookup(root: Path, key: str) -> object:
    """The value that `key` (SOURCE.FIELD, see the module docstring) names."""
    source, _, field = key.partition(".")
    if source == "nb04":
        return nb04_field(root, field)
    if source == "reference":
        return json_field(root / REFERENCE, field, root)
    if source.startswith("results/"):
        return json_field(root / RESULTS / f"{source.removeprefix('results/')}.json", field, root)
    raise SourceError(f"unknown source {source!r} in {key!r} (nb04, reference or results/NAME)")


def fill(text: str, root: Path) -> tuple[str, list[str]]:
    """`text` with every marked number recomputed, and a line for each number that changed."""
    changes = []

    def replace(match: re.Match) -> str:
        value = lookup(root, match["key"])
        try:
            new = format(value, match["spec"] or "")
        except (TypeError, ValueError) as error:
            problem = f"cannot format {value!r} as {match['spec']!r} ({error})"
            raise SourceError(f"numbers:{match['key']}: {problem}") from None
        if new != match["value"]:
            changes.append(f"numbers:{match['key']}: README has {match['value']!r}, the committed source {new!r}")
        return match[0][: match.start("value") - match.start()] + new + "<!-- /numbers -->"

    return MARKER.sub(replace, text), changes


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a number is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (default: this checkout)")
    args = parser.parse_args(argv)
    readme = args.root / "README.md"
    text = readme.read_text(encoding="utf-8")
    try:
        new_text, changes = fill(text, args.root)
        new_text, table_changes = fill_gpu_table(new_text, args.root)
        changes += table_changes
    except SourceError as error:
        print(f"README.md: {error}", file=sys.stderr)
        return 2
    for line in changes:
        print(line)
    if args.check:
        if changes:
            print("run: make readme (python tools/readme_numbers.py)")
        return 1 if changes else 0
    if new_text != text:
        readme.write_text(new_text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
