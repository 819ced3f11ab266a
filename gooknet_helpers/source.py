"""Show the package's own code in a notebook: the source that runs, never a copy that can drift."""

from __future__ import annotations

import inspect
import textwrap

from IPython.display import Code
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer


class SourceCode(Code):
    """Python source shown syntax-highlighted, with the colours inline so every front end shows them.

    IPython's `Code` styles its HTML through a stylesheet scoped to the classic notebook; inline
    colours work in JupyterLab, VS Code, Colab and nbviewer alike. The plain-text form is the source
    itself, so text-only outputs (and nbval, which compares text/plain) see the code too.
    """

    def _repr_html_(self) -> str:
        return highlight(self.data, PythonLexer(), HtmlFormatter(noclasses=True))

    def _repr_latex_(self) -> None:
        return None  # no LaTeX copy in the stored notebook: the text and HTML forms are enough


def show_code(obj: object) -> SourceCode:
    """The source of a class, method or function from this package, ready to display in a notebook.

    `show_code(Inception)` shows the whole class, `show_code(GoogLeNet.forward)` one method. A first
    comment line names the file it comes from (as a package path, never a path of this machine).
    """
    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as error:
        raise TypeError(f"show_code needs a class, method or function defined in a file, got {obj!r}") from error
    source = textwrap.dedent(source).rstrip("\n")
    module = inspect.getmodule(obj)
    if module is not None and module.__name__ != "__main__":
        where = f" ({obj.__qualname__})" if "." in getattr(obj, "__qualname__", "") else ""
        source = f"# {module.__name__.replace('.', '/')}.py{where}\n{source}"
    return SourceCode(source, language="python")


__all__ = ["SourceCode", "show_code"]
