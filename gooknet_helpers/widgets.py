"""Naive versus reduced Inception modules: the numbers of notebooks 01-02 and the ipywidgets explorer.

`module_costs` measures one naive module (Figure 2a, pass-through pool) and one Inception
module (Figure 2b) of the same widths and returns the comparison as text; `show_module_costs`
prints it and draws the bar chart; `explorer` puts sliders in front of it. Where widgets do
not render (nbval, plain Python), `show_module_costs` called directly prints the same numbers.
"""

from __future__ import annotations

import inspect
import io
import threading

import ipywidgets as widgets
from IPython.display import Image, display

from .costs import ModuleCost, measure_module
from .plots import naive_vs_reduced_bars

# Slider descriptions, in the order of module_pair's arguments (the last six are the columns of Table 1).
SLIDERS = ("in channels", "size", "#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj")


def module_pair(
    in_channels: int = 192,
    size: int = 28,
    ch1x1: int = 64,
    ch3x3red: int = 96,
    ch3x3: int = 128,
    ch5x5red: int = 16,
    ch5x5: int = 32,
    pool_proj: int = 32,
) -> tuple[ModuleCost, ModuleCost]:
    """Naive (Figure 2a, pass-through pool) and Inception (Figure 2b) modules of the given widths, measured.

    Counts are torchinfo's (biases included) for one in_channels x size x size input; defaults are 3a. The
    arguments are those of `module_costs`, `show_module_costs` and the explorer's sliders, in the same order.
    """
    name = f"{in_channels}x{size}x{size}"
    widths = (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
    return tuple(measure_module(kind, in_channels, size, widths, name) for kind in ("naive", "inception"))


def _report(naive: ModuleCost, reduced: ModuleCost) -> str:
    return "\n".join(
        [
            f"Naive (no reduction): output {naive.output}, params {naive.cost.params:,}, MACs {naive.cost.macs:,}",
            f"Inception (1x1 reduction): output {reduced.output}, params {reduced.cost.params:,}, "
            f"MACs {reduced.cost.macs:,}",
            f"Naive / Inception: params x{naive.cost.params / reduced.cost.params:.2f}, "
            f"MACs x{naive.cost.macs / reduced.cost.macs:.2f}",
        ]
    )


def module_costs(*args: int, **kwargs: int) -> str:
    """Naive (Figure 2a, pass-through pool) versus Inception (Figure 2b) as text; the input (in_channels, size) and
    the six widths of Table 1 as in `module_pair`, whose defaults are 3a."""
    return _report(*module_pair(*args, **kwargs))


def show_module_costs(*args: int, plot: bool = True, **kwargs: int) -> None:
    """Print what module_costs(...) returns and, with plot=True, draw the naive-versus-reduced bar chart."""
    pair = module_pair(*args, **kwargs)
    print(_report(*pair))
    if plot:
        display(Image(_chart_png(pair)))


_DRAWING = threading.Lock()


def _chart_png(pair: tuple[ModuleCost, ModuleCost]) -> bytes:
    """The naive-versus-reduced chart as PNG bytes.

    The explorer's callbacks can run on a kernel thread of their own (ipykernel 7) while another draws, and
    matplotlib is not thread-safe: so the chart is a plain Figure that pyplot never sees, drawn under a lock.
    """
    with _DRAWING:
        buffer = io.BytesIO()
        naive_vs_reduced_bars([pair], pyplot=False).savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def explorer() -> widgets.VBox:
    """Sliders for the input and the six widths of a module; the output below re-renders on every change."""
    arguments = inspect.signature(module_pair).parameters  # names and defaults (3a), in the order of SLIDERS
    maxima = (1024, 56, 512, 256, 512, 128, 256, 256)
    sliders = {
        name: widgets.IntSlider(
            value=argument.default,
            min=1,
            max=maximum,
            step=1,
            description=label,
            continuous_update=False,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="420px"),
        )
        for (name, argument), label, maximum in zip(arguments.items(), SLIDERS, maxima, strict=True)
    }
    output = widgets.interactive_output(show_module_costs, sliders)
    column = list(sliders.values())
    return widgets.VBox([widgets.HBox([widgets.VBox(column[:4]), widgets.VBox(column[4:])]), output])
