"""The developer scripts in tools/: the badge rewriter and the notebook executor / normaliser."""

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools import badges, execute_notebooks

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
OLD_INSTALL = (
    'import sys\nif "google.colab" in sys.modules:\n    %pip install "gooknet-helpers @ git+https://x.org/old"'
)


def synthetic(badge: str, install: str = OLD_INSTALL) -> nbformat.NotebookNode:
    """A small notebook following the collection's conventions, with the given badge line and install cell."""
    nb = new_notebook(
        cells=[
            new_markdown_cell(f"# 09 · Test — ünïcode\n{badge}\n\n**What you will learn**\n- a"),
            new_code_cell(install),
            new_code_cell("print(6 * 7)", execution_count=1, outputs=[new_output("stream", text="42\n")]),
            new_markdown_cell("## 1. A section"),
            new_markdown_cell("### A sub-section\nText."),
            new_code_cell("x = 1"),
        ]
    )
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"
    return nb


def write(nb: nbformat.NotebookNode, path: Path) -> Path:
    nbformat.write(nb, path)
    return path


# ---- badges.py ----


def test_repository_comes_from_pyproject(tmp_path):
    assert badges.repository() == "gooknet/gooknet"
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project.urls]\nRepository = "https://github.com/someone/fork.git"\n')
    assert badges.repository(pyproject) == "someone/fork"
    pyproject.write_text('[project.urls]\nRepository = "https://gitlab.com/someone/fork"\n')
    with pytest.raises(ValueError, match="github.com"):
        badges.repository(pyproject)


def test_badges_rewrite_only_badge_and_install_cell(tmp_path):
    path = write(synthetic("[![Open In Colab](old.svg)](https://example.org/old.ipynb)"), tmp_path / "09_test.ipynb")
    before = json.loads(path.read_text(encoding="utf-8"))
    assert badges.main(["--check", str(path)]) == 1
    assert json.loads(path.read_text(encoding="utf-8")) == before, "--check must not write"

    assert badges.main([str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    after = json.loads(text)
    title, old_title = ("".join(nb["cells"][0]["source"]).split("\n") for nb in (after, before))
    assert title[1] == (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/gooknet/gooknet/blob/main/notebooks/09_test.ipynb)"
    )
    assert title[:1] + title[2:] == old_title[:1] + old_title[2:], "only the badge line changes"
    install = "".join(after["cells"][1]["source"])
    assert install.startswith("# Colab only:")
    assert install.endswith(
        '%pip install --quiet "torchinfo>=1.8" "gooknet-helpers @ git+https://github.com/gooknet/gooknet"'
    )
    assert after["cells"][2:] == before["cells"][2:] and after["metadata"] == before["metadata"]
    assert text == nbformat.writes(nbformat.reads(text, as_version=4)) + "\n", "written as nbformat writes"

    assert badges.main(["--check", str(path)]) == 0
    assert badges.main([str(path)]) == 0 and path.read_text(encoding="utf-8") == text, "idempotent"


def test_badges_follow_the_pyproject_url(tmp_path):
    path = write(synthetic("[![Open In Colab](x)](y)"), tmp_path / "09_test.ipynb")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project.urls]\nRepository = "https://github.com/someone/fork"\n')
    badges.main(["--pyproject", str(pyproject), str(path)])
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert "github/someone/fork/blob/main/notebooks/09_test.ipynb)" in "".join(cells[0]["source"])
    assert 'git+https://github.com/someone/fork"' in "".join(cells[1]["source"])


def test_badges_leave_a_synced_file_byte_for_byte(tmp_path):
    path = tmp_path / "09_test.ipynb"
    path.write_text(json.dumps(synthetic("[![Open In Colab](x)](y)"), indent=2))  # not nbformat's layout
    badges.main([str(path)])
    synced = json.dumps(json.loads(path.read_text(encoding="utf-8")), indent=2)
    path.write_text(synced)
    assert badges.main(["--check", str(path)]) == 0
    badges.main([str(path)])
    assert path.read_text() == synced


def test_badges_refuse_a_notebook_without_the_conventions(tmp_path):
    no_badge = write(synthetic("no badge here"), tmp_path / "a.ipynb")
    with pytest.raises(ValueError, match="exactly one line"):
        badges.main(["--check", str(no_badge)])
    no_install = write(synthetic("[![Open In Colab](x)](y)", install="print(1)"), tmp_path / "b.ipynb")
    with pytest.raises(ValueError, match="install cell"):
        badges.main(["--check", str(no_install)])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_notebooks_have_current_badges(path):
    assert badges.main(["--check", str(path)]) == 0, "run: python tools/badges.py"


# ---- execute_notebooks.py ----


def noisy() -> nbformat.NotebookNode:
    """A synthetic notebook with the metadata noise that executing and saving leave behind."""
    nb = synthetic("[![Open In Colab](x)](y)")
    nb.metadata = nbformat.from_dict(
        {
            "kernelspec": {"display_name": "venv", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.7", "pygments_lexer": "ipython3"},
            "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}},
            "vscode": {"interpreter": {"hash": "abc"}},
            "accelerator": "GPU",
        }
    )
    code = nb.cells[2]
    code.metadata.update(
        execution={"iopub.execute_input": "2026-11-25T11:00:00.000Z"}, collapsed=False, scrolled=True, tags=["keep"]
    )
    code.outputs.append(
        new_output(
            "display_data",
            data={"text/plain": "VBox(...)", "application/vnd.jupyter.widget-view+json": {"model_id": "f00"}},
        )
    )
    return nb


def test_normalise_strips_noise_and_keeps_outputs():
    nb = execute_notebooks.normalise(noisy())
    assert set(nb.metadata) == {"kernelspec", "language_info", "rise", "accelerator"}
    assert nb.metadata.kernelspec == execute_notebooks.KERNELSPEC
    assert "version" not in nb.metadata.language_info
    code = nb.cells[2]
    assert code.metadata == {"tags": ["keep"], "slideshow": {"slide_type": "-"}}
    assert code.outputs == [new_output("stream", text="42\n")]
    assert nb.cells[0].source == synthetic("[![Open In Colab](x)](y)").cells[0].source


def test_normalise_joins_stream_chunks():
    nb = synthetic("[![Open In Colab](x)](y)")
    nb.cells[2].outputs = [
        new_output("stream", text="a\n"),
        new_output("stream", text="b\n"),
        new_output("stream", name="stderr", text="warning\n"),
        new_output("stream", text="c\n"),
    ]
    outputs = execute_notebooks.normalise(nb).cells[2].outputs
    expected = [("stdout", "a\nb\n"), ("stderr", "warning\n"), ("stdout", "c\n")]
    assert [(out.name, out.text) for out in outputs] == expected


def test_normalise_sets_slide_types():
    nb = execute_notebooks.normalise(noisy())
    assert [cell.metadata.slideshow.slide_type for cell in nb.cells] == ["slide", "skip", "-", "slide", "subslide", "-"]


def test_normalise_is_idempotent_and_check_passes_after_it(tmp_path):
    path = write(noisy(), tmp_path / "09_test.ipynb")
    assert execute_notebooks.main(["--check", str(path)]) == 1
    assert execute_notebooks.main(["--normalise-only", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    assert execute_notebooks.main(["--check", str(path)]) == 0
    execute_notebooks.main(["--normalise-only", str(path)])
    assert path.read_text(encoding="utf-8") == text
    assert text.endswith("}\n") and "ünïcode" in text


def test_execute_runs_in_the_notebook_folder_in_full_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("GOOKNET_SMOKE", "1")
    nb = synthetic("[![Open In Colab](x)](y)")
    nb.cells[2] = new_code_cell('import os\nprint(os.getcwd(), os.environ.get("GOOKNET_SMOKE"))')
    path = write(nb, tmp_path / "09_test.ipynb")
    assert execute_notebooks.main([str(path)]) == 0
    executed = nbformat.read(path, as_version=4)
    assert executed.cells[2].outputs[0].text == f"{tmp_path.resolve()} None\n"
    assert executed.cells[2].execution_count == 2
    assert execute_notebooks.main(["--check", str(path)]) == 0


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_notebooks_are_normalised(path):
    assert execute_notebooks.main(["--check", str(path)]) == 0, "run: make notebooks (or --normalise-only)"
