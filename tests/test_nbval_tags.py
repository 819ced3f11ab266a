"""nbval's markers live in cell tags, which students never see (JupyterLab, the site, the slides), not in comments.

nbval reads both; `make normalise` (tools/execute_notebooks.py) turns a `# NBVAL_...` comment into its tag.
"""

import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbval.plugin import comment_markers, find_metadata_tags, metadata_tags

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools import execute_notebooks

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_each_marker_becomes_the_tag_nbval_reads_for_it():
    for marker, tag in execute_notebooks.NBVAL_TAGS.items():
        expected = comment_markers[marker]
        assert metadata_tags[tag] == expected, f"nbval reads {tag!r} otherwise than # {marker}"
        options = dict(find_metadata_tags({"tags": [tag]}))
        assert options == dict([expected if isinstance(expected, tuple) else (expected, True)])


def test_a_marker_comment_moves_into_the_tags():
    cell = new_code_cell("# NBVAL_CHECK_OUTPUT\n\nprint(6 * 7)\n\nprint(1)")
    execute_notebooks.move_nbval_markers(cell)
    assert cell.source == "print(6 * 7)\n\nprint(1)"
    assert cell.metadata.tags == ["nbval-check-output"]

    cell = new_code_cell("x = 1\n  #  NBVAL_RAISES_EXCEPTION\nraise ValueError", metadata={"tags": ["keep"]})
    execute_notebooks.move_nbval_markers(cell)
    assert cell.source == "x = 1\nraise ValueError"
    assert cell.metadata.tags == ["keep", "raises-exception"]

    untouched = new_code_cell("# a comment about NBVAL_CHECK_OUTPUT\nprint(1)")
    execute_notebooks.move_nbval_markers(untouched)
    assert "tags" not in untouched.metadata  # not a marker line: nbval ignores it too


def test_normalising_moves_markers_and_check_flags_a_notebook_that_has_one(tmp_path):
    nb = new_notebook(cells=[new_markdown_cell("# 09 · T"), new_code_cell("pass"), new_code_cell("# NBVAL_SKIP\nx")])
    path = tmp_path / "09_t.ipynb"
    nbformat.write(nb, path)
    assert execute_notebooks.main(["--check", str(path)]) == 1
    assert execute_notebooks.main(["--normalise-only", str(path)]) == 0
    cell = nbformat.read(path, as_version=4).cells[2]
    assert (cell.source, cell.metadata.tags) == ("x", ["nbval-skip"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_notebook_shows_an_nbval_marker(path):
    nb = nbformat.read(path, as_version=4)
    shown = [n for n, cell in enumerate(nb.cells) if "NBVAL" in cell.source.upper()]
    assert shown == [], f"cells {shown} show an nbval marker: make normalise turns it into a cell tag"
    for n, cell in enumerate(nb.cells):
        for tag in cell.metadata.get("tags", []):
            if tag.startswith(("nbval", "raises")):
                assert tag in metadata_tags, f"cell {n}: nbval does not know the tag {tag!r}"
    checked = [cell for cell in nb.cells if "nbval-check-output" in cell.metadata.get("tags", [])]
    assert checked, "no cell of this notebook has its output checked"
