"""The developer scripts in tools/ and the Makefile: badges, the notebook normaliser, the README numbers, set-up."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools import badges, execute_notebooks, readme_numbers

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
    assert execute_notebooks.main(["--check", str(path)]) == 0, "run: make normalise (no re-execution)"


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a throwaway identity, ignoring the user's configuration; its stdout."""
    env = os.environ | {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false"]
    result = subprocess.run(["git", *identity, *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return result.stdout


def autosave_as_jupyterlab(path: Path) -> None:
    """What JupyterLab writes back for a notebook that was only opened: the running kernel's metadata, no run."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.kernelspec = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata.language_info = execute_notebooks.LANGUAGE_INFO | {"version": "3.11.7"}
    nbformat.write(nb, path)


@pytest.fixture
def committed_notebook(tmp_path) -> Path:
    """A git checkout holding one committed, normalised notebook of the collection (as a student's clone does)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "clone"
    (repo / "notebooks").mkdir(parents=True)
    path = repo / "notebooks" / NOTEBOOKS[0].name
    shutil.copy(NOTEBOOKS[0], path)
    execute_notebooks.main(["--normalise-only", str(path)])
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "notebooks")
    return path


def test_opening_a_notebook_in_jupyterlab_keeps_the_check_green(committed_notebook, capsys):
    path = committed_notebook
    committed = path.read_text(encoding="utf-8")
    autosave_as_jupyterlab(path)
    assert path.read_text(encoding="utf-8") != committed, "the autosave must change the file, as JupyterLab's does"
    assert '"version": "3.11.7"' in path.read_text(encoding="utf-8")

    assert execute_notebooks.main(["--check", str(path)]) == 0, "merely opening a notebook must not fail make test"
    assert "only by editor metadata" in capsys.readouterr().out
    # make normalise restores the committed file byte for byte, without running anything.
    assert execute_notebooks.main(["--normalise-only", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == committed
    assert git(path.parents[1], "status", "--porcelain") == ""


def test_check_still_catches_a_changed_notebook_left_unnormalised(committed_notebook, capsys):
    path = committed_notebook
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(new_markdown_cell("A new note."))
    nb.metadata.language_info = execute_notebooks.LANGUAGE_INFO | {"version": "3.11.7"}
    nbformat.write(nb, path)
    assert execute_notebooks.main(["--check", str(path)]) == 1
    assert "run: make normalise" in capsys.readouterr().out
    execute_notebooks.main(["--normalise-only", str(path)])
    assert execute_notebooks.main(["--check", str(path)]) == 0


# Absolute paths of a machine that executed a notebook: a stored output must not show them.
MACHINE_PATH = re.compile(
    r"(?<![\w.~/])(?:/work/|/root/|/tmp/|/home/[\w.-]+/|/Users/[\w.-]+/|/var/folders/|/content/|[A-Za-z]:\\Users\\)"
)


def machine_paths(nb: dict) -> list[str]:
    """Each absolute machine path in the sources and text outputs of `nb`, with its cell number and some context."""
    found = []
    for index, cell in enumerate(nb["cells"], start=1):
        texts = [cell["source"]]
        for out in cell.get("outputs", []):
            texts += [out.get("text", ""), *out.get("traceback", [])]
            texts += [value for mime, value in out.get("data", {}).items() if mime.startswith("text/")]
        for text in texts:
            text = text if isinstance(text, str) else "".join(text)
            for match in MACHINE_PATH.finditer(text):
                found.append(f"cell {index}: ...{text[max(0, match.start() - 30) : match.end() + 30]!r}")
    return found


def test_machine_path_scan_finds_what_it_must():
    nb = synthetic("[![Open In Colab](x)](y)")
    assert machine_paths(nb) == []
    leaks = ["/work/main/data", "/root/.cache/torch/hub", "/tmp/tmpab12/x.pt", "/home/ana/gooknet", "C:\\Users\\ana\\x"]
    for leak in leaks:
        nb.cells[2].outputs = [new_output("stream", text=f"saved to {leak}\n")]
        assert len(machine_paths(nb)) == 1, leak
    nb.cells[2].outputs = [new_output("error", ename="E", evalue="", traceback=['File "/home/ana/x.py", line 1'])]
    assert len(machine_paths(nb)) == 1
    harmless = ["https://github.com/root/tmp/", "runs/tmp/x", "~/.cache/gooknet", "data/train/cat"]
    nb.cells[2].outputs = [new_output("stream", text=" ".join(harmless))]
    assert machine_paths(nb) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_notebooks_show_no_machine_paths(path):
    leaks = machine_paths(json.loads(path.read_text(encoding="utf-8")))
    assert not leaks, f"{path.name} stores absolute paths of the machine that ran it:\n" + "\n".join(leaks)


# ---- readme_numbers.py ----


def numbers_root(tmp_path: Path, readme: str) -> Path:
    """A repository root with `readme`, a notebook 04 whose outputs print a training summary, and reference metadata."""
    (tmp_path / "notebooks").mkdir()
    nb = new_notebook(cells=[new_code_cell("fit()", outputs=[])])
    nb.cells[0].outputs = [
        new_output("stream", text="input pipeline: 29,279 images/s on cpu\n"),
        new_output("stream", name="stderr", text="test accuracy 99.00% after 1 s of training\n"),
        new_output(
            "stream", text="test accuracy 35.50% after 31 s of training\ncpu: 2 threads: 1,319 training images/s\n"
        ),
    ]
    nbformat.write(nb, tmp_path / readme_numbers.NOTEBOOK_04)
    reference = tmp_path / readme_numbers.REFERENCE
    reference.parent.mkdir(parents=True)
    reference.write_text(json.dumps({"test_acc": 0.8812, "run": {"epochs": 30, "device": "cpu: 2 threads"}}))
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    return tmp_path


def test_readme_numbers_fill_and_check(tmp_path, capsys):
    readme = (
        "| demo | <!-- numbers:nb04.test_acc .1% -->30%<!-- /numbers --> in "
        "<!-- numbers:nb04.train_s -->26<!-- /numbers --> s, "
        "<!-- numbers:nb04.images_per_s , -->386<!-- /numbers --> |\n"
        "Reference: <!-- numbers:reference.test_acc .1% -->88.1%<!-- /numbers --> after "
        "<!-- numbers:reference.run.epochs -->30<!-- /numbers --> epochs on <!-- numbers:reference.run.device -->"
        "cpu: 2 threads<!-- /numbers -->; pipeline <!-- numbers:nb04.pipeline_images_per_s , -->1<!-- /numbers -->.\n"
    )
    root = numbers_root(tmp_path, readme)
    assert readme_numbers.main(["--check", "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "numbers:nb04.train_s: README has '26', the committed source '31'" in out, "stderr lines are not read"
    assert (root / "README.md").read_text() == readme, "--check must not write"

    assert readme_numbers.main(["--root", str(root)]) == 0
    expected = (
        readme.replace("-->30%<", "-->35.5%<").replace("-->26<", "-->31<").replace("-->386<", "-->1,319<")
    ).replace("-->1<", "-->29,279<")
    assert (root / "README.md").read_text() == expected
    assert readme_numbers.main(["--check", "--root", str(root)]) == 0


def test_readme_numbers_name_a_missing_source(tmp_path, capsys):
    root = numbers_root(tmp_path, "<!-- numbers:reference.test_acc .1% -->88.1%<!-- /numbers -->\n")
    metadata = (root / readme_numbers.REFERENCE).read_text()
    (root / readme_numbers.REFERENCE).unlink()
    assert readme_numbers.main(["--check", "--root", str(root)]) == 2
    assert "gooknet_helpers/reference/metadata.json does not exist" in capsys.readouterr().err
    (root / readme_numbers.REFERENCE).write_text(metadata)
    for marker, message in [
        ("reference.epochs", "has no field 'epochs'"),
        ("nb04.speed", "nb04 has no field 'speed'"),
        ("results/gpu.images_per_s", "benchmarks/results/gpu.json does not exist"),
        ("elsewhere.x", "unknown source"),
        ("nb04.test_acc ,d", "cannot format"),
    ]:
        (root / "README.md").write_text(f"<!-- numbers:{marker} -->1<!-- /numbers -->")
        assert readme_numbers.main(["--check", "--root", str(root)]) == 2
        assert message in capsys.readouterr().err


def test_readme_numbers_match_the_committed_sources():
    assert readme_numbers.main(["--check"]) == 0, "run: make readme"
    assert "<!-- numbers:nb04.test_acc" in (ROOT / "README.md").read_text(encoding="utf-8")


# ---- the Makefile and tools/find_python.sh ----


OUTER_MAKE = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VENV", "PYTHON", "REQUIREMENTS", "TORCH_INDEX", "ARGS", "COLAB_VENV")


def make(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`make ARGS` in the repository root; its output, never raising."""
    program = shutil.which("make")
    if program is None:
        pytest.skip("make is not installed")
    # Under `make test` (or test-colab) the outer make hands its variables down, through MAKEFLAGS and as environment
    # variables (e.g. REQUIREMENTS=requirements-colab.txt): not to this one.
    env = {key: value for key, value in (env or os.environ).items() if key not in OUTER_MAKE}
    return subprocess.run([program, "--no-print-directory", "-C", ROOT, *args], capture_output=True, text=True, env=env)


def fake_python(path: Path, version: str) -> Path:
    """An executable at `path` that acts as Python `version` (e.g. "3.10") for what the Makefile asks of one.

    `-c CODE` runs CODE in this Python with `sys.version_info` set to `version`; `-m venv DIR` makes a venv whose
    bin/python is this same fake; `-m pip ...` only writes its arguments to pip.log beside the fake.
    """
    major, minor = version.split(".")
    prelude = f"import sys; sys.version_info = ({major}, {minor}, 0, 'final', 0)"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = -c ]; then exec "{sys.executable}" -c "{prelude}; exec(sys.argv.pop(1))" "$2"; fi\n'
        'if [ "$2" = venv ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; '
        f'echo "version = {version}.0" > "$3/pyvenv.cfg"; exit; fi\n'
        'echo "$@" >> "$(dirname "$0")/pip.log"\n'
    )
    path.chmod(0o755)
    return path


def test_make_passes_torch_index_and_lab_args_on(tmp_path):
    venv = f"VENV={tmp_path / 'venv'}"
    dry = make("-n", "install", venv, "TORCH_INDEX=https://download.pytorch.org/whl/cpu")
    assert dry.returncode == 0, dry.stderr
    assert (
        "pip install --quiet --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt" in dry.stdout
    )
    assert "--extra-index-url" not in make("-n", "install", venv).stdout, "the default must stay offline-friendly"
    lab = make("-n", "lab", venv, "ARGS=--no-browser --port 8899")
    assert re.search(r"/bin/jupyter lab notebooks/ (--allow-root )?--no-browser --port 8899$", lab.stdout, re.M), (
        lab.stdout
    )


def test_make_test_colab_builds_its_own_venv_and_skips_the_browser_tests(tmp_path):
    venv = tmp_path / "colab"
    dry = make("-n", "test-colab", f"COLAB_VENV={venv}", f"COLAB_PYTHON={sys.executable}")
    assert dry.returncode == 0, dry.stderr
    assert f"{sys.executable} -m venv {venv}" in dry.stdout
    assert "pip install --quiet  -r requirements-colab.txt" in dry.stdout
    assert f"{venv}/bin/python -m pytest --ignore=tests/test_browser.py --ignore=tests/test_book.py" in dry.stdout
    pins = (ROOT / "requirements-colab.txt").read_text()
    for pin in ("-r requirements.txt", "torch==2.11.0", "torchvision==0.26.0", "ipywidgets==7.7.1", "numpy==2."):
        assert pin in pins


def test_make_test_colab_without_python_3_13_says_what_to_do(tmp_path):
    # No interpreter anywhere: an empty PATH, no pyenv (the recipe needs only the shell's builtins).
    env = {"PATH": str(tmp_path / "empty"), "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "no-pyenv")}
    result = make("test-colab", f"COLAB_VENV={tmp_path / 'colab'}", env=env)
    assert result.returncode != 0 and not (tmp_path / "colab").exists()
    assert "no Python 3.13 found" in result.stderr and "COLAB_PYTHON=" in result.stderr


def test_make_refuses_an_old_python_before_making_a_venv(tmp_path):
    old = fake_python(tmp_path / "bin" / "python3.10", "3.10")
    result = make("install", f"VENV={tmp_path / 'venv'}", f"PYTHON={old}")
    assert result.returncode != 0
    assert f"gooknet needs Python 3.11 or newer, but {old} is Python 3.10" in result.stderr
    assert not (tmp_path / "venv").exists()


def test_make_rebuilds_a_venv_made_by_another_python(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([fake_python(tmp_path / "old" / "python3.10", "3.10"), "-m", "venv", venv], check=True)
    (venv / ".installed").touch()  # the stamp of the Makefile before versioned stamps: stale either way
    new = fake_python(tmp_path / "new" / "python3.12", "3.12")
    result = make("install", f"VENV={venv}", f"PYTHON={new}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{venv} was made by another Python: rebuilding it with {new} (Python 3.12)" in result.stdout
    assert not (venv / ".installed").exists(), "the old venv must be removed, not reused"
    code = "import sys; print(sys.version_info[:2])"
    version = subprocess.run([venv / "bin" / "python", "-c", code], capture_output=True)
    assert version.stdout == b"(3, 12)\n"
    assert (venv / "bin" / "pip.log").read_text().splitlines() == [
        "-m pip install --quiet --upgrade pip",
        "-m pip install --quiet -r requirements.txt",
    ]
    assert (venv / ".installed-3.12").exists()
    again = make("install", f"VENV={venv}", f"PYTHON={new}")
    assert again.returncode == 0 and "rebuilding" not in again.stdout and "pip" not in again.stdout, "up to date"


def test_find_python_finds_a_version_or_says_what_to_do():
    script = ROOT / "tools" / "find_python.sh"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    found = subprocess.run([script, version], capture_output=True, text=True)
    if found.returncode == 0:  # python3.X on PATH or under pyenv; a bare venv may have neither
        reported = subprocess.run(
            [found.stdout.strip(), "-c", "import sys; print(sys.version_info[:2])"], capture_output=True
        )
        assert reported.stdout.decode().strip() == str(sys.version_info[:2])
    missing = subprocess.run([script, "3.99"], capture_output=True, text=True)
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.strip() == (
        "no Python 3.99 found (neither python3.99 on PATH nor one installed by pyenv): install it, "
        "or name it with COLAB_PYTHON=/path/to/python3.99"
    )
