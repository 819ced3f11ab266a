"""show_code: the package's real source, as text for nbval and as highlighted HTML for JupyterLab."""

import ast
from pathlib import Path

import pytest
from IPython.core.formatters import DisplayFormatter

from gooknet_helpers import GoogLeNet, Inception, show_code
from gooknet_helpers.module_checks import check_module

PACKAGE = Path(__file__).resolve().parents[1] / "gooknet_helpers"


def lines_of(file: str, *names: str) -> list[str]:
    """The lines of the class (or `Class.method`) `names` in the package's `file`, read from the file itself: not
    through `inspect`, which `show_code` uses."""
    text = (PACKAGE / file).read_text(encoding="utf-8")
    body = ast.parse(text).body
    for name in names:
        node = next(n for n in body if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and n.name == name)
        body = node.body
    return text.splitlines()[node.lineno - 1 : node.end_lineno]


def test_a_class_is_shown_from_its_file():
    code = show_code(Inception)
    header, source = code.data.split("\n", 1)
    assert header == "# gooknet_helpers/blocks.py"
    assert source == "\n".join(lines_of("blocks.py", "Inception"))
    assert "torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)" in source


def test_a_method_is_dedented_and_named():
    code = show_code(GoogLeNet.forward)
    header, source = code.data.split("\n", 1)
    assert header == "# gooknet_helpers/network.py (GoogLeNet.forward)"
    assert source.startswith("def forward(self, x")
    lines = lines_of("network.py", "GoogLeNet", "forward")
    assert all(line[:4] == "    " or not line for line in lines)
    assert source == "\n".join(line[4:] for line in lines)  # the method's four spaces of class indentation removed
    assert show_code(check_module).data.startswith("# gooknet_helpers/module_checks.py\ndef check_module(")


def test_plain_text_is_the_source_and_html_is_coloured_inline():
    code = show_code(Inception)
    data, _ = DisplayFormatter().format(code)
    assert data["text/plain"] == code.data  # what nbval compares and a terminal shows
    assert "text/latex" not in data
    html = data["text/html"]
    assert "style=" in html and "color:" in html and "<style>" not in html  # no stylesheet a front end may drop
    assert "/work/" not in html and "/work/" not in code.data


def test_things_without_source_are_refused_clearly():
    with pytest.raises(TypeError, match="class, method or function"):
        show_code(len)
