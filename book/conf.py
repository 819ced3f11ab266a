"""Sphinx configuration of the static site (make book): the committed notebooks with their stored outputs.

Built from the repository root with this folder as the configuration directory:

    sphinx-build -c book . _build/site

Nothing is executed (myst-nb's `nb_execution_mode = "off"`): the site shows what the notebooks store. The README
is the landing page (`index.html` redirects to it); its links to `notebooks/*.ipynb` and `docs/*.md` resolve to
the pages built from those files.
"""

import tomllib
from pathlib import Path

from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parents[1]
# The one place the repository URL lives (as for the notebooks' Colab badges, tools/badges.py).
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]["Repository"]

project = "gooknet"
author = "the gooknet authors"
copyright = "the gooknet authors, MIT licence"

extensions = ["myst_nb", "sphinx.ext.githubpages"]  # githubpages: a .nojekyll file
root_doc = "README"
include_patterns = ["README.md", "docs/*.md", "notebooks/*.ipynb"]
exclude_patterns = ["_build", ".venv*", "**/.ipynb_checkpoints"]

nb_execution_mode = "off"  # stored outputs only: the site never runs a notebook
myst_heading_anchors = 3  # links to "#section" anchors inside a page work

html_theme = "sphinx_book_theme"
html_title = "gooknet: GoogLeNet, taught by running it"
html_theme_options = {
    "repository_url": REPOSITORY,
    "repository_branch": "main",
    "use_repository_button": True,
    "launch_buttons": {"colab_url": "https://colab.research.google.com"},
    "show_toc_level": 2,
}
html_show_sourcelink = False

# The sidebar: every notebook in order, then the teacher's guide and its answer sheet. README.md has no toctree of its
# own (GitHub shows it as it is), so one is appended to it while Sphinx reads it.
TOCTREE = """

```{toctree}
:hidden:
:caption: Notebooks
:glob:

notebooks/*
```

```{toctree}
:hidden:
:caption: Teaching

docs/teachers_guide
docs/answer_sheet
```
"""
LANDING = '<!DOCTYPE html>\n<meta charset="utf-8">\n<meta http-equiv="refresh" content="0; url=README.html">\n'
LANDING += '<link rel="canonical" href="README.html">\n<a href="README.html">gooknet</a>\n'


def add_toctree(app: Sphinx, docname: str, source: list[str]) -> None:
    if docname == root_doc:
        source[0] += TOCTREE


def write_index(app: Sphinx, exception: Exception | None) -> None:
    """index.html, the page a web server shows first, sends the reader to the README's page."""
    if exception is None and app.builder.format == "html":
        (Path(app.outdir) / "index.html").write_text(LANDING, encoding="utf-8")


def setup(app: Sphinx) -> None:
    app.connect("source-read", add_toctree)
    app.connect("build-finished", write_index)
