"""The teacher's 90-minute plan adds up: each block's estimated talk (tools/class_plan.py) fits its slot and is the
one docs/teachers_guide.md states."""

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools import class_plan


def test_every_block_fits_its_slot_and_states_its_estimate():
    blocks = class_plan.estimate()
    assert [block.notebook for block in blocks] == ["01", "02", "03", "04"]
    assert class_plan.problems(blocks) == []
    assert sum(block.slot for block in blocks) <= 90


GUIDE = """## The 90 minutes at a glance

| minutes | notebook | sections to run live | skim | estimated talk |
|---|---|---|---|---|
| 0-10 | 09 · Test | 1, 3 (the figure) | 2 | 8 min |

### 0-10 min: 09 · Test

- **1. One.** Ask: *why?* and *why not?*
- **2. Two.** Ask: *never counted?*
- **3. Three.** *if time*: *not counted?* Ask: *counted?*

## Next
"""


def test_estimate_counts_live_prose_figures_cells_and_questions(tmp_path):
    figure = new_output("display_data", data={"image/png": "", "text/plain": "<Figure>"})
    words = " ".join(["word"] * 130)
    nb = new_notebook(
        cells=[
            new_markdown_cell("# 09 · Test"),
            new_markdown_cell(f"## 1. One\n{words}"),  # 132 words with the heading
            new_code_cell("x = 1"),
            new_markdown_cell("### Write it yourself\nhomework, not counted"),
            new_code_cell("class Mine: ..."),
            new_markdown_cell("## 2. Two\nnot live"),
            new_markdown_cell("## 3. Three"),
            new_code_cell("fig", outputs=[figure]),
            new_markdown_cell("## Summary\nnot a numbered section"),
        ]
    )
    nbformat.write(nb, tmp_path / "09_test.ipynb")
    guide = tmp_path / "guide.md"
    guide.write_text(GUIDE)
    (block,) = class_plan.estimate(guide, tmp_path)
    assert (block.live, block.words, block.figures, block.cells, block.questions) == ([1, 3], 134, 1, 2, 3)
    expected = 134 / 130 + 1 * class_plan.FIGURE + 2 * class_plan.CELL + 3 * class_plan.QUESTION
    assert abs(block.minutes - expected) < 1e-9
    assert class_plan.problems([block]) == []  # 7.13 minutes: the guide states 8
    guide.write_text(GUIDE.replace("8 min", "7 min").replace("0-10", "0-7"))
    (block,) = class_plan.estimate(guide, tmp_path)
    assert class_plan.problems([block]) == [
        "09: about 8 min of talk in a 7-minute slot",
        "09: the guide states 7 min, the estimate is 8 min",
    ]
