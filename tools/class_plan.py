"""The talk time of each block of the teacher's 90-minute plan, estimated from the notebooks and the guide.

    python tools/class_plan.py           # each block: its slot, its estimate and what makes it up
    python tools/class_plan.py --check   # exit 1 if a block's estimate exceeds its slot or differs from the guide's

The plan is the table of docs/teachers_guide.md ("The 90 minutes at a glance"): per block a slot (minutes "4-25"),
a notebook ("01 · ..."), the sections run live ("1, 2, 4"; a note in brackets is for the reader) and the estimated
talk it states ("20 min"). The estimate of a block, in minutes, is

    live prose words / WORDS_PER_MINUTE + figures * FIGURE + code cells * CELL + questions * QUESTION

over the live `##` sections of its notebook, without their write-it-yourself (`### Write ...`) sub-sections, which
are homework. Its questions are the italic questions (`*...?*`) of the guide's step-by-step bullets that open with
a live section (`- **4. ...**`); one marked *if time* just before it is not counted. The guide states each estimate
rounded up to a whole minute.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "teachers_guide.md"
NOTEBOOKS = ROOT / "notebooks"

WORDS_PER_MINUTE = 130  # prose explained to a class, at a lecturing pace
FIGURE = 1.0  # minutes to read a figure with the class
CELL = 0.3  # minutes to run a code cell and point at its output
QUESTION = 1.5  # minutes to ask, wait, and take an answer or two

ROW = re.compile(r"^\| (\d+)-(\d+) \| (\d\d) · [^|]*\| ([^|]*)\| [^|]*\| ([^|]*)\|$", re.M)
QUESTION_MARK = re.compile(r"(\*if time\*: )?\*([^*]+\?)\*")
COMMENT = re.compile(r"<!--.*?-->", re.S)  # e.g. the markers of tools/readme_numbers.py around a number


@dataclass
class Block:
    start: int
    end: int
    notebook: str  # "01"
    live: list[int]
    stated: int | None  # the guide's estimate, whole minutes
    words: int = 0
    figures: int = 0
    cells: int = 0
    questions: int = 0

    @property
    def slot(self) -> int:
        return self.end - self.start

    @property
    def minutes(self) -> float:
        return self.words / WORDS_PER_MINUTE + self.figures * FIGURE + self.cells * CELL + self.questions * QUESTION


def blocks(guide: str) -> list[Block]:
    """The plan's notebook blocks, from the guide's table."""
    result = []
    for start, end, notebook, live, stated in ROW.findall(guide):
        sections = [int(n) for n in re.findall(r"(?:^|,)\s*(\d+)", re.sub(r"\([^)]*\)", "", live))]
        number = re.search(r"(\d+) min", stated)
        result.append(Block(int(start), int(end), notebook, sections, int(number.group(1)) if number else None))
    return result


def section_content(nb) -> dict[int, tuple[int, int, int]]:
    """Per numbered `##` section: (prose words, figures, code cells), without `### Write ...` sub-sections."""
    content: dict[int, list[int]] = {}
    section, homework = None, False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            top = re.match(r"## (\d+)\. ", cell.source)
            if top:
                section, homework = int(top.group(1)), False
            elif cell.source.startswith("## "):
                section = None
            sub = re.search(r"^### (.+)", cell.source, re.M)
            if sub:
                homework = sub.group(1).startswith("Write")
        if section is None or homework:
            continue
        words, figures, cells = content.setdefault(section, [0, 0, 0])
        if cell.cell_type == "markdown":
            words += len(re.findall(r"[\w'-]+", COMMENT.sub("", cell.source)))  # as rendered: no HTML comments
        elif cell.cell_type == "code":
            cells += 1
            figures += sum(1 for out in cell.get("outputs", []) if "image/png" in out.get("data", {}))
        content[section] = [words, figures, cells]
    return {key: tuple(value) for key, value in content.items()}


def step_by_step(guide: str, block: Block) -> str:
    """The guide's step-by-step text of `block`: from its `### start-end min` heading to the next heading."""
    match = re.search(rf"^### {block.start}-{block.end} min: {block.notebook} [^\n]*\n(.*?)(?=^##)", guide, re.M | re.S)
    if not match:
        raise SystemExit(f"the guide has no step-by-step heading '### {block.start}-{block.end} min: {block.notebook}'")
    return match.group(1)


def count_questions(text: str, live: list[int]) -> int:
    """The italic questions of the bullets in `text` that open with a live section, less those marked *if time*."""
    count = 0
    for bullet in re.split(r"^- ", text, flags=re.M)[1:]:
        opening = re.match(r"\*\*(\d+)\. ", bullet)
        if opening and int(opening.group(1)) in live:
            count += sum(1 for if_time, _ in QUESTION_MARK.findall(bullet) if not if_time)
    return count


def estimate(guide_path: Path = GUIDE, folder: Path = NOTEBOOKS) -> list[Block]:
    """Every notebook block of the plan, with what its estimate is made of."""
    guide = guide_path.read_text(encoding="utf-8")
    result = blocks(guide)
    if not result:
        raise SystemExit(f"{guide_path}: no plan table found")
    for block in result:
        (path,) = sorted(folder.glob(f"{block.notebook}_*.ipynb"))
        content = section_content(nbformat.read(path, as_version=4))
        for section in block.live:
            if section not in content:
                raise SystemExit(f"{path.name} has no section {section}, which the plan runs live")
            words, figures, cells = content[section]
            block.words, block.figures, block.cells = block.words + words, block.figures + figures, block.cells + cells
        block.questions = count_questions(step_by_step(guide, block), block.live)
    return result


def problems(result: list[Block]) -> list[str]:
    found = []
    for block in result:
        rounded = math.ceil(block.minutes)
        if rounded > block.slot:
            found.append(f"{block.notebook}: about {rounded} min of talk in a {block.slot}-minute slot")
        if block.stated != rounded:
            found.append(f"{block.notebook}: the guide states {block.stated} min, the estimate is {rounded} min")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if the plan does not add up")
    args = parser.parse_args(argv)
    result = estimate()
    for block in result:
        print(
            f"{block.notebook} {block.start:>2}-{block.end:<2} slot {block.slot:>2} min, estimate {block.minutes:4.1f}:"
            f" sections {block.live}, {block.words} words, {block.figures} figures, {block.cells} cells,"
            f" {block.questions} questions"
        )
    found = problems(result)
    for problem in found:
        print(problem)
    return 1 if args.check and found else 0


if __name__ == "__main__":
    sys.exit(main())
