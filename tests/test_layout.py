"""The README's map of gooknet_helpers/ ("where things are") names every module of the package, and only those."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_map_lists_exactly_the_package_modules():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("\ngooknet_helpers/ ", 1)[1].split("\nbenchmarks/ ", 1)[0]
    listed = re.findall(r"^  (\w+\.py) +\S", block, re.M)
    present = sorted(path.name for path in (ROOT / "gooknet_helpers").glob("*.py"))
    assert len(listed) == len(set(listed)), "a module is listed twice"
    assert sorted(listed) == present
