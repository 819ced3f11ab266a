"""Every result number in the prose of notebooks 04 and 05 is tied to what computes it (tools/readme_numbers.py).

The committed numbers are checked against their sources by tests/test_tools.py
(`test_readme_numbers_match_the_committed_sources`, which covers the README and every notebook); here: that nothing
result-like in 04's and 05's markdown is left unmarked, and that the markers and claims work in a notebook.
"""

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools import readme_numbers

TIED = {"nb04": ROOT / readme_numbers.NOTEBOOK_04, "nb05": ROOT / readme_numbers.NOTEBOOK_05}


@pytest.mark.parametrize("name", TIED)
def test_every_result_number_in_the_prose_is_marked(name):
    nb = nbformat.read(TIED[name], as_version=4)
    untied = {
        cell.id: numbers
        for cell in nb.cells
        if cell.cell_type == "markdown"
        and (numbers := readme_numbers.untied_numbers(cell.source, readme_numbers.GIVEN[name]))
    }
    assert not untied, (
        f"{TIED[name].name}: numbers in the prose that no marker ties to a source (cell id: numbers): {untied}. Mark "
        "each as <!-- numbers:SOURCE.FIELD SPEC -->value<!-- /numbers --> (tools/readme_numbers.py), or, if it is not "
        "a result, add it to GIVEN there with the reason"
    )


@pytest.mark.parametrize("name", TIED)
def test_every_given_number_still_occurs(name):
    prose = [
        readme_numbers.prose(c.source)
        for c in nbformat.read(TIED[name], as_version=4).cells
        if c.cell_type == "markdown"
    ]
    stale = [key for key in readme_numbers.GIVEN[name] if not any(key in text for text in prose)]
    assert not stale, f"GIVEN[{name!r}] in tools/readme_numbers.py lists numbers the prose no longer has: {stale}"


@pytest.mark.parametrize("name", TIED)
def test_the_notebooks_quote_their_results_through_markers(name):
    text = TIED[name].read_text(encoding="utf-8")
    assert text.count("<!-- numbers:") >= 20 and text.count("<!-- claim:") >= (0 if name == "nb04" else 10)


def test_untied_numbers_tell_results_from_names_sizes_and_references():
    prose = (
        "Section 4 of the paper (2014, arXiv:1409.4842, [link](https://x.org/1234)) and notebooks 01-03: module "
        "3a's 5x5 branch on a 32x32 image, a 9 x 4 heat map, two 3x3 convolutions, `code 123`; it costs 58 points, "
        "<!-- numbers:nb05.largest_drop .0f -->58<!-- /numbers --> points, 0.31, 12 epochs and 86.09% in 20 minutes."
    )
    assert readme_numbers.untied_numbers(prose) == ["58 points", "0.31", "12", "86.09%", "20 minutes"]
    assert readme_numbers.untied_numbers(prose, {"12 epochs": "a setting", "0.31": "a quote"}) == [
        "58 points",
        "86.09%",
        "20 minutes",
    ]


def tiny_root(tmp_path: Path, markdown: str, printed: str) -> Path:
    """A repository root whose notebook 05 prints `printed` and has `markdown` as prose, beside a README."""
    (tmp_path / "notebooks").mkdir()
    nb = new_notebook(cells=[new_code_cell("print(...)"), new_markdown_cell(markdown)])
    nb.cells[0].outputs = [new_output("stream", text=printed), new_output("stream", name="stderr", text="noise\n")]
    nbformat.write(nb, tmp_path / readme_numbers.NOTEBOOK_05)
    (tmp_path / "README.md").write_text("nothing measured\n", encoding="utf-8")
    return tmp_path


def markdown_of(root: Path) -> str:
    cells = json.loads((root / readme_numbers.NOTEBOOK_05).read_text(encoding="utf-8"))["cells"]
    return "".join(cells[1]["source"])


def test_notebook_numbers_are_refilled_from_the_stored_outputs(tmp_path, capsys):
    printed = "main classifier: 80.00% of 1,000 test images right\n"
    printed += "largest drop: 41.37 points, switching off 4e's 1x1 branch\n"
    markdown = (
        "The network gets <!-- numbers:nb05.main_acc .2% -->86.09%<!-- /numbers --> right; switching off "
        "<!-- numbers:nb05.largest_drop_branch -->3b's 3x3<!-- /numbers --> costs "
        "<!-- numbers:nb05.largest_drop .0f -->58<!-- /numbers --> points."
    )
    root = tiny_root(tmp_path, markdown, printed)
    assert readme_numbers.main(["--check", "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert (
        "numbers:nb05.main_acc: 05_what_it_learned.ipynb cell" in out
        and "has '86.09%', the committed source '80.00%'" in out
    )
    assert markdown_of(root) == markdown, "--check must not write"
    assert readme_numbers.main(["--root", str(root)]) == 0
    assert markdown_of(root) == markdown.replace("86.09%", "80.00%").replace("3b's 3x3", "4e's 1x1").replace(
        "-->58<", "-->41<"
    )
    nbformat.validate(nbformat.read(root / readme_numbers.NOTEBOOK_05, as_version=4))
    assert readme_numbers.main(["--check", "--root", str(root)]) == 0


def test_a_claim_the_results_no_longer_bear_out_fails_in_both_modes(tmp_path, capsys):
    printed = "energy share / channel share, mean over the nine modules: 1x1 0.90, 3x3 1.20, 5x5 1.03, pool 1.17\n"
    markdown = "The 1x1 branch sends more per channel.<!-- claim: nb05.energy_1x1 > 1 and nb05.energy_3x3 < 1 -->"
    root = tiny_root(tmp_path, markdown, printed)
    for args in (["--check"], []):
        assert readme_numbers.main([*args, "--root", str(root)]) == 1
        out = capsys.readouterr().out
        assert "no longer holds (nb05.energy_1x1 = 0.9, nb05.energy_3x3 = 1.2): rewrite the sentence" in out
    (root / readme_numbers.NOTEBOOK_05).write_text(
        (root / readme_numbers.NOTEBOOK_05).read_text().replace("1x1 0.90, 3x3 1.20", "1x1 1.13, 3x3 0.87")
    )
    assert readme_numbers.main(["--check", "--root", str(root)]) == 0


def test_a_number_the_stored_outputs_lack_names_every_missing_line(tmp_path, capsys):
    markdown = (
        "<!-- numbers:nb05.minutes -->20<!-- /numbers --> minutes, <!-- numbers:nb05.max_se .1f -->0.6<!-- /numbers -->"
    )
    root = tiny_root(tmp_path, markdown, "nothing\n")
    assert readme_numbers.main(["--check", "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "(for nb05.minutes): execute the notebook (make notebooks)" in err and "(for nb05.max_se)" in err


def test_a_marker_that_opens_a_line_is_refused(tmp_path, capsys):
    """CommonMark reads a line that opens with `<!--` as an HTML block: the paragraph breaks there and the markdown on
    that line is not rendered."""
    markdown = "- **Bold**: text\n  <!-- numbers:nb05.main_acc .2% -->80.00%<!-- /numbers --> right."
    root = tiny_root(tmp_path, markdown, "main classifier: 80.00% of 1,000 test images right\n")
    assert readme_numbers.main(["--check", "--root", str(root)]) == 1
    assert "a line starts with <!-- numbers:...: move it after the text before it" in capsys.readouterr().out


def test_markers_reach_into_lists_and_give_percentage_points(tmp_path):
    (tmp_path / readme_numbers.ABLATIONS).parent.mkdir(parents=True)
    comparison = {"difference": -0.0123, "interval": [-0.021, 0.0004]}
    (tmp_path / readme_numbers.ABLATIONS).write_text(json.dumps({"comparisons": {"aux_heads": comparison}}))
    text = (
        "a <!-- numbers:ablations.comparisons.aux_heads.difference +.2pt -->x<!-- /numbers --> point change, "
        "from <!-- numbers:ablations.comparisons.aux_heads.interval.0 +.2pt -->x<!-- /numbers --> to "
        "<!-- numbers:ablations.comparisons.aux_heads.interval.1 +.2pt -->x<!-- /numbers -->"
    )
    filled, _ = readme_numbers.fill(text, tmp_path)
    assert [m["value"] for m in readme_numbers.MARKER.finditer(filled)] == ["-1.23", "-2.10", "+0.04"]
    with pytest.raises(readme_numbers.SourceError, match="no field"):
        readme_numbers.fill("<!-- numbers:ablations.comparisons.aux_heads.interval.2 -->x<!-- /numbers -->", tmp_path)
