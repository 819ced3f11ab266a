"""Classroom slide decks: one self-contained reveal.js file per notebook of the teacher's plan (make slides).

    python tools/build_slides.py                          # the notebooks docs/teachers_guide.md plans -> _build/slides/
    python tools/build_slides.py notebooks/02_*.ipynb     # only these
    python tools/build_slides.py --out DIR --reveal reveal.js-5.2.1.tgz   # another folder; reveal.js from a file

Nothing is executed: a deck shows the committed outputs. Each deck is one HTML file with everything inlined
(reveal.js, the styles, the figures), so it opens from a USB stick on a machine without a network. reveal.js comes
from its npm package (`npm pack`, checked against the integrity pinned below, kept in _build/vendor/); without npm,
fetch the tarball once elsewhere (`npm pack reveal.js@5.2.1`) and pass it with --reveal.

Made for a 1280x720 projector, and larger screens:
- a `#`/`##` heading opens a slide, `###`/`####` a sub-slide; a section taller than about a screen is split into
  sub-slides between cells (never between a paragraph and the code cell right after it), headed "(continued)";
- a slide still taller than the screen scrolls: the presenter's keys (Right, Down, Page Down, Space, N and the
  reverse) page through it before moving on, and never cut a figure (tools/slides/deck.js); navigation is
  linear, so no sub-slide is skipped;
- figures are drawn at most 1200x600 px, prose at 22 px, code and printed output at 18 px; code wraps at spaces,
  printed tables shrink until no row wraps;
- what the notebook keeps collapsed (the answers shown by `show_code`, the appendix of 03) stays collapsed: a
  bar to click; the setup cell's imports are collapsed too; the Colab badge and install cell are left out;
- a widget (the explorer of 02) needs a live kernel: the deck says so where it would be.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import html
import io
import math
import re
import shutil
import struct
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "teachers_guide.md"
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "_build" / "slides"
VENDOR = ROOT / "_build" / "vendor"
TEMPLATES = Path(__file__).resolve().with_name("slides")

REVEAL_VERSION = "5.2.1"
REVEAL_TARBALL = f"reveal.js-{REVEAL_VERSION}.tgz"
# The npm registry's `dist.integrity` of reveal.js 5.2.1: a tarball that differs is refused.
REVEAL_INTEGRITY = "sha512-r7//6mIM5p34hFiDMvYfXgyjXqGRta+/psd9YtytsgRlrpRzFv4RbH76TXd2qD+7ZPZEbpBDhdRhJaFgfQ7zNQ=="

SCREEN_HEIGHT = 720
FIGURE_BOX = (1200, 600)  # the largest a figure is drawn (CSS px): the slide's width, one screen with room left
# Estimated heights (CSS px) at the deck's sizes, to decide where a section splits; deck.js scrolls what is left.
BUDGET = SCREEN_HEIGHT - 76  # one screen less the slide's padding
PROSE_LINE, PROSE_CHARS = 32, 100
CODE_LINE, CODE_CHARS = 25, 108
HEADING = {1: 70, 2: 60, 3: 50, 4: 44}
COLLAPSED = 48  # a collapsed part: its bar
WIDGETS = "gooknet_helpers.widgets"
EXTERNAL_IMAGE = re.compile(r"\[!\[[^\]]*\]\(https?://[^)]*\)\]\([^)]*\)|!\[[^\]]*\]\(https?://[^)]*\)")
TABLE_LINE = re.compile(r"\S {2,}\S|[\u2500-\u257f]|^[\s=_-]{12,}$")


# ---- reveal.js, from its npm package ----


def reveal_tarball(given: Path | None = None) -> Path:
    """The reveal.js tarball: `given`, else the one kept in _build/vendor/, else fetched there with `npm pack`."""
    path = given or VENDOR / REVEAL_TARBALL
    if not path.exists():
        if given is not None:
            raise SystemExit(f"{given}: no such file")
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit(
                f"npm not found: install Node.js and npm, or fetch reveal.js elsewhere (npm pack "
                f"reveal.js@{REVEAL_VERSION}) and pass the tarball with --reveal"
            )
        VENDOR.mkdir(parents=True, exist_ok=True)
        command = [npm, "pack", f"reveal.js@{REVEAL_VERSION}", "--pack-destination", str(VENDOR), "--silent"]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    digest = "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()
    if digest != REVEAL_INTEGRITY:
        raise SystemExit(f"{path} is not reveal.js {REVEAL_VERSION} as published (integrity {digest})")
    return path


def reveal_assets(tarball: Path) -> dict[str, str]:
    """reveal.js's script and core stylesheet, from the npm tarball."""
    with tarfile.open(tarball) as archive:

        def read(name: str) -> str:
            return archive.extractfile(f"package/{name}").read().decode("utf-8")

        return {"reveal_js": script_safe(read("dist/reveal.js")), "reveal_css": read("dist/reveal.css")}


def script_safe(code: str) -> str:
    """JavaScript that can stand inside <script>...</script>: no `</script` in it (same meaning in JS)."""
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)


# ---- which notebooks ----


def planned_notebooks(guide: Path = GUIDE, folder: Path = NOTEBOOKS) -> list[Path]:
    """The notebooks the teacher's guide plans a session around: those its headings name ("01 · ...")."""
    numbers = []
    for line in guide.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            numbers += re.findall(r"\b(\d\d) · ", line)
    paths = []
    for number in dict.fromkeys(numbers):
        found = sorted(folder.glob(f"{number}_*.ipynb"))
        if len(found) != 1:
            raise SystemExit(f"{guide.name} names notebook {number}, but {folder} has {len(found)} such notebooks")
        paths += found
    if not paths:
        raise SystemExit(f"{guide} names no notebook in its headings")
    return sorted(paths)


# ---- the deck's structure ----


def heading(cell) -> tuple[int, str] | None:
    """(level, text) of a markdown cell that starts with a heading."""
    if cell.cell_type != "markdown":
        return None
    match = re.match(r"(#{1,6}) +(.+)", cell.source)
    return (len(match.group(1)), plain(match.group(2))) if match else None


def plain(markdown: str) -> str:
    """A heading's text without markdown: `code`, *emphasis*, [links](...)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return re.sub(r"[`*_]", "", text).strip()


def hidden(cell) -> tuple[bool, bool]:
    """(source hidden, outputs hidden), as JupyterLab shows the cell."""
    view = cell.metadata.get("jupyter", {})
    return bool(view.get("source_hidden")), bool(view.get("outputs_hidden"))


def fully_hidden(cell) -> bool:
    """A cell of which nothing shows in JupyterLab but its collapsed bars."""
    source, outputs = hidden(cell)
    if cell.cell_type == "markdown":
        return source
    return source and (outputs or not cell.get("outputs"))


def image_size(output) -> tuple[float, float] | None:
    """The size (CSS px) a PNG or JPEG output is drawn at in JupyterLab: its metadata, else its pixels."""
    for mime in ("image/png", "image/jpeg"):
        if mime not in output.get("data", {}):
            continue
        meta = output.get("metadata", {}).get(mime, {})
        if "width" in meta and "height" in meta:
            return float(meta["width"]), float(meta["height"])
        raw = base64.b64decode(output.data[mime])
        if mime == "image/png":
            width, height = struct.unpack(">II", raw[16:24])
            return float(width), float(height)
        from PIL import Image

        return tuple(float(v) for v in Image.open(io.BytesIO(raw)).size)
    return None


def fit_figure(size: tuple[float, float]) -> tuple[int, int]:
    """`size` scaled down (never up) to fit FIGURE_BOX, keeping its aspect."""
    width, height = size
    scale = min(1.0, FIGURE_BOX[0] / width, FIGURE_BOX[1] / height)
    return math.floor(width * scale), math.floor(height * scale)


def text_height(text: str, chars: int, line: int) -> int:
    rows = sum(max(1, math.ceil(len(row) / chars)) for row in text.splitlines() or [""])
    return rows * line


def output_height(output) -> int:
    size = image_size(output)
    if size is not None:
        return fit_figure(size)[1] + 10
    if output.output_type == "stream":
        text = output.text
    elif output.output_type == "error":
        text = "\n".join(output.traceback)
    else:
        data = output.get("data", {})
        text = re.sub(r"<[^>]+>", "", data["text/html"]) if "text/html" in data else data.get("text/plain", "")
    rows = 0
    for row in text.splitlines():
        rows += 1 if TABLE_LINE.search(row) else max(1, math.ceil(len(row) / CODE_CHARS))
    return rows * CODE_LINE + 8


def cell_height(cell) -> int:
    """The estimated height of a cell in the deck, collapsed parts as their bars."""
    if fully_hidden(cell):
        return COLLAPSED
    source_hidden, outputs_hidden = hidden(cell)
    deck = cell.metadata.get("deck", {})
    if cell.cell_type == "markdown":
        total = 0
        for row in cell.source.splitlines():
            level = len(row) - len(row.lstrip("#")) if row.startswith("#") else 0
            total += HEADING.get(level, 0) or max(1, math.ceil(len(row) / PROSE_CHARS)) * PROSE_LINE * bool(row.strip())
        return total + 12
    total = (
        COLLAPSED if source_hidden or deck.get("hide_input") else text_height(cell.source, CODE_CHARS, CODE_LINE) + 16
    )
    if cell.get("outputs"):
        total += COLLAPSED if outputs_hidden else sum(output_height(out) for out in cell.outputs)
    return total + (COLLAPSED if deck.get("live") else 0)


@dataclass
class Unit:
    """Cells that stay on one slide: a paragraph with the code cell after it, one more code cell, a collapsed run."""

    cells: list = field(default_factory=list)
    height: int = 0
    level: int = 0  # the heading level it opens with (1-4), 0 for none
    title: str = ""


def units(cells: list) -> list[Unit]:
    result: list[Unit] = []
    for cell in cells:
        head = heading(cell)
        previous = result[-1] if result else None
        if fully_hidden(cell):
            joins = previous is not None and all(fully_hidden(c) for c in previous.cells)
        elif cell.cell_type == "code":
            # the code cell right after a paragraph stays with it; any later one stands alone
            joins = (
                previous is not None
                and previous.cells[-1].cell_type == "markdown"
                and not fully_hidden(previous.cells[-1])
            )
        else:
            joins = False
        if not joins:
            previous = Unit(level=head[0] if head and head[0] <= 4 else 0, title=head[1] if head else "")
            result.append(previous)
        previous.cells.append(cell)
        previous.height += cell_height(cell)
    return result


def layout(nb) -> tuple[list[list[Unit]], list[str]]:
    """The deck's slides, each a list of sub-slides, each a list of units; and each sub-slide's title."""
    slides: list[list[list[Unit]]] = []
    titles: list[str] = []
    section = ""
    height = 0
    for unit in units([cell for cell in nb.cells if not cell.metadata.get("deck", {}).get("skip")]):
        if unit.level in (1, 2) or not slides:
            slides.append([[unit]])
            section, height = unit.title, unit.height
            titles.append(unit.title)
        elif unit.level in (3, 4):
            slides[-1].append([unit])
            section = unit.title if unit.level == 3 else section
            height = unit.height
            titles.append(unit.title)
        elif height > BUDGET * 0.25 and height + unit.height > BUDGET:
            slides[-1].append([unit])
            height = unit.height
            titles.append(f"{section} (continued)")
        else:
            slides[-1][-1].append(unit)
            height += unit.height
    return slides, titles


def prepare(nb):
    """A copy of `nb` with metadata.deck set on every cell for the template (see deck.html.j2)."""
    nb = copy.deepcopy(nb)
    widget_names = set()
    setup_seen = False
    for cell in nb.cells:
        cell.metadata["deck"] = {}
        deck = cell.metadata["deck"]  # NotebookNode stores a copy of what it is given
        if cell.cell_type == "markdown":
            cell.source = EXTERNAL_IMAGE.sub("", cell.source)  # the Colab badge: an image from the internet
            continue
        if cell.cell_type != "code":
            deck["skip"] = True
            continue
        if "google.colab" in cell.source and "pip install" in cell.source:
            deck["skip"] = True  # Colab's install cell
            continue
        for match in re.finditer(rf"from {re.escape(WIDGETS)} import ([^\n]+)", cell.source):
            widget_names.update(name.strip() for name in match.group(1).strip("()").split(","))
        if not setup_seen:
            setup_seen = True
            deck["hide_input"] = "Setup: the imports (click to show)"
        source_hidden, outputs_hidden = hidden(cell)
        if source_hidden and not fully_hidden(cell):
            deck["hide_input"] = "Code collapsed in the notebook (click to show)"
        if outputs_hidden and not source_hidden:
            deck["hide_outputs"] = "Output collapsed in the notebook, as it gives an answer away (click to show)"
        calls = {name for name in widget_names if re.search(rf"^\s*{re.escape(name)}\(", cell.source, re.M)}
        if calls and not cell.get("outputs"):
            deck["live"] = True
            deck["after"] = (
                '<p class="gk-live">A live widget: it runs in JupyterLab (<code>make lab</code>), not in this '
                "static deck.</p>"
            )
        for output in cell.get("outputs", []):
            size = image_size(output)
            if size is not None:
                width, height = fit_figure(size)
                mime = "image/png" if "image/png" in output.data else "image/jpeg"
                output.setdefault("metadata", {})[mime] = {"width": width, "height": height}
    slides, titles = layout(nb)
    number = 0
    for slide in slides:
        for position, subslide in enumerate(slide):
            cells = [cell for unit in subslide for cell in unit.cells]
            before = ["<section>"] if position == 0 else []
            before.append("<section>")
            if titles[number].endswith("(continued)"):
                before.append(f'<p class="gk-continued">{html.escape(titles[number])}</p>')
            number += 1
            after = ["</section>"] + (["</section>"] if position == len(slide) - 1 else [])
            collapsed_run(cells)
            first, last = cells[0].metadata["deck"], cells[-1].metadata["deck"]
            first["before"] = "".join(before) + first.get("before", "")
            last["after"] = last.get("after", "") + "".join(after)
    nb.metadata["deck"] = {"slides": len(slides), "subslides": number}
    return nb


def collapsed_run(cells: list) -> None:
    """Put each run of fully hidden cells in one collapsed bar (as JupyterLab collapses the appendix of 03)."""
    index = 0
    while index < len(cells):
        if not fully_hidden(cells[index]):
            index += 1
            continue
        end = index
        while end + 1 < len(cells) and fully_hidden(cells[end + 1]):
            end += 1
        count = end - index + 1
        head = next((heading(c) for c in cells[index : end + 1] if heading(c)), None)
        label = f"{head[1]}: " if head else ""
        summary = f"{label}collapsed in the notebook, {count} cell{'s' * (count > 1)} (click to show)"
        first, last = cells[index].metadata["deck"], cells[end].metadata["deck"]
        first["before"] = (
            first.get("before", "") + f'<details class="gk-collapsed"><summary>{html.escape(summary)}</summary>'
        )
        last["after"] = "</details>" + last.get("after", "")
        index = end + 1


# ---- rendering ----


def render(path: Path, assets: dict[str, str]) -> tuple[str, dict]:
    """The deck of the notebook at `path`: its HTML, and its slide counts."""
    from nbconvert import HTMLExporter

    nb = prepare(nbformat.read(path, as_version=4))
    exporter = HTMLExporter(
        template_name="lab",
        extra_template_paths=[str(TEMPLATES)],
        template_file="deck.html.j2",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    title = heading(nb.cells[0])[1] if heading(nb.cells[0]) else path.stem
    resources = {
        "deck": {
            **assets,
            "title": title,
            "reveal_version": REVEAL_VERSION,
            "css": (TEMPLATES / "deck.css").read_text(encoding="utf-8"),
            "js": script_safe((TEMPLATES / "deck.js").read_text(encoding="utf-8")),
        }
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body, dict(nb.metadata["deck"])


def build(paths: list[Path], out: Path, tarball: Path | None = None) -> dict[str, dict]:
    """Write one deck per notebook into `out` (NAME.slides.html); returns each deck's slide counts."""
    assets = reveal_assets(reveal_tarball(tarball))
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for path in paths:
        body, count = render(path, assets)
        target = out / f"{path.stem}.slides.html"
        target.write_text(body, encoding="utf-8")
        counts[target.name] = count
        print(f"{target}: {count['slides']} slides, {count['subslides']} with their sub-slides")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: those docs/teachers_guide.md plans")
    parser.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT.relative_to(ROOT)}")
    parser.add_argument("--reveal", type=Path, help=f"the npm tarball {REVEAL_TARBALL}, if npm cannot fetch it")
    args = parser.parse_args(argv)
    build(args.notebooks or planned_notebooks(), args.out, args.reveal)
    return 0


if __name__ == "__main__":
    sys.exit(main())
