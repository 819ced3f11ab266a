"""Re-execute notebooks in place, keeping their outputs, and normalise them for clean diffs.

    python tools/execute_notebooks.py notebooks/*.ipynb                   # execute + normalise (make notebooks)
    python tools/execute_notebooks.py --normalise-only notebooks/*.ipynb  # normalise only, no kernel
    python tools/execute_notebooks.py --check notebooks/*.ipynb           # exit 1 if one is not normalised

`make normalise` runs the second line (no kernel, no data); `make notebooks` the first.

Execution uses a python3 kernel from this interpreter's environment (the venv), with the
notebook's folder as working directory, in full mode (GOOKNET_SMOKE unset). Normalising:
- notebook metadata: only kernelspec, a version-free language_info, slide settings, and Colab's
  `accelerator`/`colab` keys if present; saved widget state is dropped (GitHub does not render
  widgets from it, and its model ids and embedded outputs change on every run);
- cell metadata: timing (`execution`, `ExecuteTime`) and view state (`collapsed`, `scrolled`) dropped;
- outputs: kept, except live widget views, which show only in a running kernel; consecutive
  stdout (stderr) chunks joined into one, as their split depends on flush timing;
- slides (JupyterLab's RISE extension or `jupyter nbconvert --to slides`): a markdown cell starting
  "# " or "## " opens a slide, "### " a sub-slide, the Colab install cell is skipped, the rest follows on.
- nbval's comment markers (`# NBVAL_CHECK_OUTPUT`, ...) become the cell tags nbval reads in their place
  (`nbval-check-output`, ...): a tag is invisible to students in JupyterLab, on the site and in the slides.
Normalising is idempotent, so `--check` holds after any run of this script.

`--check` judges what would be committed, not what an editor left behind: JupyterLab autosaves a notebook that was
merely opened with the running kernel's metadata (`language_info.version`, ...). A notebook passes when it is
normalised, or when normalising it gives back exactly its committed version (git HEAD), so that opening a notebook
never turns `make test` red, while a changed notebook must be normalised before it is committed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}
# Let long slides scroll when presented with jupyterlab-rise.
RISE = {"scroll": True}
KEPT_METADATA = ("accelerator", "colab")
CELL_NOISE = ("execution", "ExecuteTime", "collapsed", "scrolled")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# nbval's comment markers, and the cell tag nbval reads for each (nbval.plugin.metadata_tags). `raises-exception`
# rather than `nbval-raises-exception`: nbclient (make notebooks) and myst-nb (make book) honour that one too.
NBVAL_TAGS = {
    "NBVAL_CHECK_OUTPUT": "nbval-check-output",
    "NBVAL_IGNORE_OUTPUT": "nbval-ignore-output",
    "PYTEST_VALIDATE_IGNORE_OUTPUT": "nbval-ignore-output",
    "NBVAL_SKIP": "nbval-skip",
    "NBVAL_RAISES_EXCEPTION": "raises-exception",
}


def slide_type(index: int, cell: dict) -> str:
    """The RISE / nbconvert slide type of the cell at `index`."""
    if index == 1:
        return "skip"
    if cell["cell_type"] == "markdown":
        if cell["source"].startswith(("# ", "## ")):
            return "slide"
        if cell["source"].startswith("### "):
            return "subslide"
    return "-"


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip metadata noise and set slide metadata, in place (see the module docstring)."""
    kept = {key: nb.metadata[key] for key in KEPT_METADATA if key in nb.metadata}
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO, "rise": RISE, **kept})
    for index, cell in enumerate(nb.cells):
        for key in CELL_NOISE:
            cell.metadata.pop(key, None)
        cell.metadata["slideshow"] = {"slide_type": slide_type(index, cell)}
        if cell.cell_type == "code":
            move_nbval_markers(cell)
            cell.outputs = merge_streams([out for out in cell.outputs if WIDGET_VIEW not in out.get("data", {})])
    return nb


def move_nbval_markers(cell: nbformat.NotebookNode) -> None:
    """Turn the `# NBVAL_...` comment lines of a code cell into the tags nbval reads, in place.

    A marker line goes, and so does one blank line right after it (the usual `# NBVAL_CHECK_OUTPUT` + blank line
    opening a cell); the rest of the source is kept as it is.
    """
    kept, tags, after_marker = [], [], False
    for line in cell.source.split("\n"):
        text = line.strip()
        marker = text.lstrip("#").strip() if text.startswith("#") else None
        if marker in NBVAL_TAGS:
            tags.append(NBVAL_TAGS[marker])
            after_marker = True
        elif after_marker and not text:
            after_marker = False
        else:
            kept.append(line)
            after_marker = False
    if not tags:
        return
    cell.source = "\n".join(kept)
    existing = list(cell.metadata.get("tags", []))
    cell.metadata["tags"] = existing + [tag for tag in dict.fromkeys(tags) if tag not in existing]


def merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) chunks: how the kernel happened to flush them is noise."""
    merged = []
    for out in outputs:
        previous = merged[-1] if merged else None
        if previous and out.output_type == previous.output_type == "stream" and out.name == previous.name:
            previous.text += out.text
        else:
            merged.append(out)
    return merged


class _CurrentEnvKernels(KernelSpecManager):
    """Resolve every kernel name to this interpreter's ipykernel, whatever kernels the user has installed."""

    def get_kernel_spec(self, kernel_name: str):
        return self.kernel_spec_class(resource_dir=RESOURCES, **get_kernel_dict())


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int) -> None:
    """Run every cell of `nb` in a fresh kernel started in `cwd`, in full mode; stops at the first error."""
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=_CurrentEnvKernels())
    client = NotebookClient(nb, km=km, timeout=timeout, record_timing=False, resources={"metadata": {"path": str(cwd)}})
    env = {key: value for key, value in os.environ.items() if key != "GOOKNET_SMOKE"}
    # The inline backend even if the shell chose another one.
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    client.execute(env=env, cleanup_kc=True)  # shut the kernel down: we, not nbclient, made its manager


def committed(path: Path) -> str | None:
    """The text of `path` at git HEAD; None outside a git checkout, without git, or for a file git does not track."""
    command = ["git", "show", f"HEAD:./{path.name}"]
    try:
        result = subprocess.run(command, cwd=path.resolve().parent, capture_output=True, encoding="utf-8")
    except OSError:
        return None
    return result.stdout if result.returncode == 0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--normalise-only", action="store_true", help="do not execute, only normalise")
    mode.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is not normalised")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    args = parser.parse_args(argv)
    stale = []
    for path in args.notebooks:
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
        if not (args.check or args.normalise_only):
            print(f"executing {path} ...", flush=True)
            execute(nb, path.resolve().parent, args.timeout)
        new_text = nbformat.writes(normalise(nb)) + "\n"
        if new_text == text:
            continue
        if not args.check:
            path.write_text(new_text, encoding="utf-8")
        elif new_text == committed(path):
            print(f"{path}: differs from its commit only by editor metadata (make normalise restores it)")
        else:
            stale.append(path)
    for path in stale:
        print(f"not normalised: {path} (run: make normalise, which does not re-execute anything)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
