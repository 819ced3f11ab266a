"""Rewrite every notebook's Colab badge (cell 1) and Colab install cell (cell 2) from the repository URL.

The URL lives in one place, pyproject.toml `[project.urls] Repository`. Change it there, then run

    python tools/badges.py            # rewrite notebooks/*.ipynb where needed
    python tools/badges.py --check    # only report; exit 1 if a notebook is out of date (tests, CI)

Everything else in a notebook is left byte for byte; a rewritten notebook is written the way
nbformat writes it (indent 1, sorted keys, UTF-8, trailing newline).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BADGE_PREFIX = "[![Open In Colab]("
BADGE = (
    "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    "(https://colab.research.google.com/github/{repo}/blob/main/notebooks/{name})"
)
INSTALL_CELL = "\n".join(
    [
        "# Colab only: install what Colab lacks (torchinfo, this repository's helpers);"
        " Colab's torch and ipywidgets stay.",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        '    %pip install --quiet "torchinfo>=1.8" "gooknet-helpers @ git+https://github.com/{repo}"',
    ]
)


def repository(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The GitHub "owner/name" of `[project.urls] Repository` in pyproject.toml."""
    url = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["urls"]["Repository"]
    match = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?", url)
    if not match:
        raise ValueError(f"Repository URL must be https://github.com/OWNER/NAME (Colab opens from GitHub), got {url!r}")
    return match[1]


def _text(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _set_text(cell: dict, text: str) -> None:
    cell["source"] = text if isinstance(cell["source"], str) else text.splitlines(keepends=True)


def sync(notebook: dict, name: str, repo: str) -> bool:
    """Rewrite the badge line and the install cell of `notebook` (file `name`) in place; True if anything changed."""
    title, install = notebook["cells"][:2]
    lines = _text(title).split("\n")
    badges = [i for i, line in enumerate(lines) if line.startswith(BADGE_PREFIX)]
    if title["cell_type"] != "markdown" or len(badges) != 1:
        raise ValueError(f"{name}: cell 1 must be markdown with exactly one line starting {BADGE_PREFIX!r}")
    if install["cell_type"] != "code" or "google.colab" not in _text(install):
        raise ValueError(f"{name}: cell 2 must be the Colab install cell (code mentioning google.colab)")
    before = json.dumps(notebook["cells"][:2])
    lines[badges[0]] = BADGE.format(repo=repo, name=name)
    _set_text(title, "\n".join(lines))
    _set_text(install, INSTALL_CELL.format(repo=repo))
    return json.dumps(notebook["cells"][:2]) != before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is out of date")
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    args = parser.parse_args(argv)
    repo = repository(args.pyproject)
    stale = []
    for path in args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        if not sync(notebook, path.name, repo):
            continue
        stale.append(path)
        if not args.check:
            text = json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": "))
            path.write_text(text + "\n", encoding="utf-8")
    verb = "out of date" if args.check else "rewritten"
    for path in stale:
        print(f"{verb}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
