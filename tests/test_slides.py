"""The classroom decks of `make slides` (tools/build_slides.py): built from the committed notebooks, then shown in
Chromium at 1280x720 with the network cut off, slide by slide, as a presenter steps through them with the keys.

The decks are built once into a temporary folder (reveal.js from the npm tarball kept in _build/vendor/, fetched
with npm if missing). Like tests/test_browser.py, the browser test drives Debian's Chromium with Playwright for
Python and is skipped without them (it fails under CI=true). It writes what it measured (slides, screens per slide,
key presses) to test-results/slides/report.json.
"""

import base64
import json
import os
import struct
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from test_browser import CHROMIUM, FLAGS, require_browser  # one way to find and start Chromium

from tools import build_slides

SCREEN = {"width": 1280, "height": 720}
REPORT = ROOT / "test-results" / "slides" / "report.json"
MIN_PROSE_PX = 18  # body text, code, and printed output that is not a table
MIN_TABLE_PX = 11  # a printed table shrunk to the width (deck.js)
# The presenter's keys that move on: each pages through a long slide, then goes to the next (sub-)slide.
FORWARD_KEYS = ["PageDown", "ArrowRight", "Space", "ArrowDown", "n"]


def fail_or_skip(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def planned() -> list[Path]:
    return build_slides.planned_notebooks()


@pytest.fixture(scope="module")
def decks(tmp_path_factory, planned) -> dict[str, Path]:
    """Every planned notebook's deck, built into a temporary folder: {notebook stem: deck path}."""
    out = tmp_path_factory.mktemp("slides")
    try:
        build_slides.build(planned, out)
    except SystemExit as error:  # no npm and no reveal.js tarball
        fail_or_skip(f"the decks need reveal.js: {error}")
    return {path.stem: out / f"{path.stem}.slides.html" for path in planned}


# ---- the build, without a browser ----


def test_the_guide_plans_notebooks_01_to_04_at_least(planned):
    names = [path.name[:2] for path in planned]
    assert names[:4] == ["01", "02", "03", "04"], names


def test_planned_notebooks_come_from_the_guides_headings(tmp_path):
    (tmp_path / "nb").mkdir()
    for name in ("01_a.ipynb", "02_b.ipynb", "03_c.ipynb"):
        (tmp_path / "nb" / name).write_text("{}")
    guide = tmp_path / "guide.md"
    guide.write_text("# Guide\n\n### 5-25 min: 03 · C\n\nsee 02 · B in passing\n\n## After: 01 · A\n")
    assert [p.name for p in build_slides.planned_notebooks(guide, tmp_path / "nb")] == ["01_a.ipynb", "03_c.ipynb"]


def test_a_tarball_that_is_not_the_published_reveal_js_is_refused(tmp_path):
    fake = tmp_path / build_slides.REVEAL_TARBALL
    fake.write_bytes(b"not reveal.js")
    with pytest.raises(SystemExit, match="not reveal.js"):
        build_slides.reveal_tarball(fake)


def synthetic() -> nbformat.NotebookNode:
    header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", 2400, 600) + b"\x08\x02\x00\x00\x00"
    png = base64.b64encode(header).decode()  # as much of a PNG as its size needs: 2400x600 pixels, no metadata
    cells = [
        new_markdown_cell(
            "# 09 · Test\n\n[![Open In Colab](https://colab.example/badge.svg)](https://colab.example/x)"
        ),
        new_code_cell('import sys\nif "google.colab" in sys.modules:\n    %pip install x'),
        new_code_cell("import torch"),
        new_markdown_cell("## 1. A section\n\nText."),
        new_code_cell(
            "show_code(Answer)", outputs=[new_output("execute_result", data={"text/plain": "def answer(): 42"})]
        ),
        new_code_cell("fig", outputs=[new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})]),
        new_markdown_cell("## Appendix"),
        new_markdown_cell("### A. Hidden\nSide material."),
        new_markdown_cell("More of it."),
        new_code_cell("print(1)", outputs=[new_output("stream", text="1\n")]),
    ]
    cells[4].metadata["jupyter"] = {"outputs_hidden": True}
    for cell in cells[8:]:
        cell.metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
    return new_notebook(cells=cells)


def test_prepare_hides_answers_skips_colab_and_sizes_figures():
    nb = build_slides.prepare(synthetic())
    decks = [cell.metadata.deck for cell in nb.cells]
    assert "colab" not in nb.cells[0].source and "09 · Test" in nb.cells[0].source
    assert decks[1].get("skip") and "hide_input" in decks[2]  # the install cell; the setup cell's imports
    assert "hide_outputs" in decks[4] and "hide_input" not in decks[4]  # the answer: its output collapsed
    assert nb.cells[5].outputs[0].metadata["image/png"] == {"width": 1200, "height": 300}
    # The appendix's hidden cells: one collapsed run, after the visible heading of A.
    assert decks[8]["before"].endswith("<summary>collapsed in the notebook, 2 cells (click to show)</summary>")
    assert decks[9]["after"].startswith("</details>")
    assert nb.metadata.deck == {"slides": 3, "subslides": 4}


def test_a_long_section_splits_between_cells_and_says_it_continues():
    paragraph = "A sentence of prose in the deck. " * 30  # about 10 lines
    cells = [new_markdown_cell("# 09 · T"), new_code_cell("pass"), new_markdown_cell(f"## 1. Long\n\n{paragraph}")]
    for _ in range(4):
        cells += [new_markdown_cell(paragraph), new_code_cell("x = 1\ny = 2")]
    nb = build_slides.prepare(new_notebook(cells=cells))
    starts = [cell for cell in nb.cells if "<section>" in cell.metadata.deck.get("before", "")]
    assert nb.metadata.deck["subslides"] >= 3
    continued = [cell for cell in starts if "(continued)" in cell.metadata.deck["before"]]
    assert continued and all(cell.cell_type == "markdown" for cell in continued), "a paragraph keeps its code cell"


def test_decks_are_self_contained_and_show_no_test_marker(decks, planned):
    for path in planned:
        deck = decks[path.stem]
        text = deck.read_text(encoding="utf-8")
        soup = BeautifulSoup(text, "html.parser")
        assert not soup.select("script[src], link[href], iframe"), f"{deck.name} loads a file"
        for tag in soup.select("img"):
            assert tag["src"].startswith("data:"), f"{deck.name}: an image from {tag['src'][:60]}"
        assert "Reveal.initialize" in text and f"reveal.js {build_slides.REVEAL_VERSION}" in text
        assert "nbval" not in soup.get_text().lower(), f"{deck.name} shows an nbval marker"


def test_collapsed_answers_stay_inside_a_collapsed_bar(decks, planned):
    checked = 0
    for path in planned:
        nb = nbformat.read(path, as_version=4)
        soup = BeautifulSoup(decks[path.stem].read_text(encoding="utf-8"), "html.parser")
        collapsed = " ".join(d.get_text() for d in soup.select("details.gk-collapsed"))
        for details in soup.select("details.gk-collapsed"):
            assert not details.has_attr("open")
            details.decompose()
        shown = soup.get_text()
        for cell in nb.cells:
            if not cell.metadata.get("jupyter", {}).get("outputs_hidden"):
                continue
            for output in cell.outputs:
                text = output.get("text") or output.get("data", {}).get("text/plain", "")
                line = max(text.splitlines(), key=len, default="").strip()
                if len(line) > 20 and "<Figure" not in line:
                    checked += 1
                    assert line in collapsed and line not in shown, f"{path.name}: {line!r} shows"
    assert checked >= 3  # at least the answers of 01, 02 and 03


# ---- in Chromium, offline, at 1280x720 ----

STATE = """() => {
  const slide = Reveal.getCurrentSlide(), box = slide.getBoundingClientRect(), i = Reveal.getIndices();
  const images = [...document.querySelectorAll(".slides img")];
  const whole = images.flatMap((img, n) => {
    if (!slide.contains(img) || !img.checkVisibility() || !img.complete || !img.naturalWidth) return [];
    const r = img.getBoundingClientRect();
    const inside = r.top >= box.top - 1 && r.bottom <= box.bottom + 1 && r.top >= -1 && r.bottom <= innerHeight + 1
      && r.left >= box.left - 1 && r.right <= box.left + slide.clientWidth + 1 && r.height > 20;
    return inside ? [n] : [];
  });
  return {h: i.h, v: i.v || 0, top: slide.scrollTop, bottom: slide.scrollHeight - slide.clientHeight,
          screens: slide.scrollHeight / slide.clientHeight, whole: whole, last: Reveal.isLastSlide()};
}"""

# Everything that must hold for the slide on screen, whatever its scroll position; returns the problems found.
CHECK = """([minProse, minTable]) => {
  const slide = Reveal.getCurrentSlide(), box = slide.getBoundingClientRect();
  const right = box.left + slide.clientWidth, problems = [];
  const shown = (el) => el.checkVisibility();  // false inside a closed <details>, unlike getClientRects
  const tableLine = /\\S {2,}\\S|[\\u2500-\\u257f]|^[\\s=_-]{12,}$/;
  const say = (what, el) => problems.push(`${what}: ${(el.textContent || el.alt || "").trim().slice(0, 60)}`);
  for (const el of slide.querySelectorAll("*")) {
    if (!shown(el) || !(el.textContent || "").trim()) continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < (el.closest("pre.gk-fit") ? minTable : minProse)) say(`text at ${size}px`, el);
  }
  for (const el of slide.querySelectorAll("pre, table, img, svg, .jp-Cell, p, li, h1, h2, h3, h4, summary")) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.right > right + 1 || r.left < box.left - 1) say(`beyond the slide's side (${Math.round(r.right)}px)`, el);
    if (el.tagName === "PRE" && el.scrollWidth > el.clientWidth + 1) say("cut at the right", el);
  }
  if (slide.scrollWidth > slide.clientWidth + 1) problems.push("the slide scrolls sideways");
  // A printed table's row never wraps (so never splits a number): each table line sits on one line box.
  for (const pre of slide.querySelectorAll(".jp-RenderedText pre")) {
    if (!shown(pre)) continue;
    const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT), nodes = [];
    let offset = 0;
    while (walker.nextNode()) { nodes.push([walker.currentNode, offset]); offset += walker.currentNode.length; }
    const at = (k) => {
      for (let j = nodes.length - 1; j >= 0; j--) if (nodes[j][1] <= k) return [nodes[j][0], k - nodes[j][1]];
    };
    let start = 0;
    for (const line of pre.textContent.split("\\n")) {
      if (line.trim() && tableLine.test(line)) {
        const range = document.createRange(), a = at(start), b = at(start + line.length);
        range.setStart(a[0], Math.min(a[1], a[0].length));
        range.setEnd(b[0], Math.min(b[1], b[0].length));
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (tops.size > 1) problems.push(`a printed table row wraps: ${line.trim().slice(0, 60)}`);
      }
      start += line.length + 1;
    }
  }
  // What the notebook keeps collapsed stays collapsed: closed, nothing of it drawn but its bar.
  for (const details of slide.querySelectorAll("details")) {
    if (details.open) say("a collapsed part is open", details);
    for (const child of details.children) {
      if (child.tagName !== "SUMMARY" && shown(child)) say("collapsed but drawn", child);
    }
  }
  if (/NBVAL/i.test(slide.innerText)) problems.push("an nbval marker is visible");
  return problems;
}"""


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


def present(browser, deck: Path) -> dict:
    """Step through `deck` with the presenter's forward keys, from the first slide to the end of the last."""
    context = browser.new_context(viewport=SCREEN)
    network = []

    def offline(route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            network.append(url)
            route.abort()

    context.route("**/*", offline)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "request", lambda request: request.url.startswith(("file:", "data:", "blob:")) or network.append(request.url)
    )
    try:
        page.goto(deck.as_uri())
        page.wait_for_function("document.documentElement.dataset.gkReady === '1'")
        page.wait_for_function("[...document.images].every((img) => img.complete)")
        order = page.evaluate(
            "() => Reveal.getSlides().map((s) => { const i = Reveal.getIndices(s); return [i.h, i.v || 0]; })"
        )
        images = page.evaluate("""() => [...document.querySelectorAll(".slides img")].map(
            (img) => img.closest("details") ? null : Reveal.getIndices(img.closest("section")))""")
        slides: dict[tuple, dict] = {}
        seen_whole: set[int] = set()
        problems: list[str] = []
        presses = 0
        while True:
            state = page.evaluate(STATE)
            key = (state["h"], state["v"])
            if key not in slides:
                slides[key] = {
                    "screens": round(state["screens"], 2),
                    "pages": 0,
                    "deepest": 0,
                    "bottom": state["bottom"],
                }
                problems += [f"slide {key}: {p}" for p in page.evaluate(CHECK, [MIN_PROSE_PX, MIN_TABLE_PX])]
            elif state["top"] > slides[key]["deepest"]:
                slides[key]["pages"] += 1  # a press that paged down within the slide
            slides[key]["deepest"] = max(slides[key]["deepest"], state["top"])
            seen_whole.update(state["whole"])
            if state["last"] and state["top"] >= state["bottom"] - 1:
                break
            assert presses < 2000, "the keys never reach the end of the deck"
            page.keyboard.press(FORWARD_KEYS[presses % len(FORWARD_KEYS)])
            presses += 1
        return {
            "order": order,
            "visited": [list(key) for key in slides],
            "slides": {f"{h}/{v}": slide for (h, v), slide in slides.items()},
            "unreached": [f"{h}/{v}" for (h, v), s in slides.items() if s["deepest"] < s["bottom"] - 1],
            "figures": len([i for i in images if i is not None]),
            "collapsed_figures": len([i for i in images if i is None]),
            "figures_never_whole": [n for n, i in enumerate(images) if i is not None and n not in seen_whole],
            "problems": problems,
            "network": network,
            "errors": errors,
            "presses": presses,
        }
    finally:
        context.close()


@pytest.mark.parametrize("stem", [path.stem for path in build_slides.planned_notebooks()])
def test_deck_in_chromium_offline_at_1280x720(browser, decks, stem):
    result = present(browser, decks[stem])
    # Per slide: its height in screens, and the presses that page down within it before the next one moves on.
    summary = {name: {"screens": s["screens"], "pages": s["pages"]} for name, s in result["slides"].items()}
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    tallest = max(summary.items(), key=lambda item: item[1]["screens"])
    report[stem] = {"slides": len(summary), "tallest": {"slide": tallest[0], **tallest[1]}, "per_slide": summary}
    REPORT.write_text(json.dumps(report, indent=1))

    assert result["network"] == [], "the deck asked the network for something"
    assert result["errors"] == []
    assert result["visited"] == result["order"], "the keys skipped or reordered slides"
    assert result["unreached"] == [], "the keys never showed the end of these slides"
    assert result["figures"] > 0 and result["figures_never_whole"] == [], "figures never shown whole"
    assert result["problems"] == []
