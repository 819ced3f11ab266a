"""The naive-versus-reduced comparison and the ipywidgets explorer of notebook 02."""

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest

from gooknet_helpers import TABLE1
from gooknet_helpers.costs import measure_module
from gooknet_helpers.plots import naive_vs_reduced_bars
from gooknet_helpers.widgets import SLIDERS, explorer, module_costs, show_module_costs


def _sliders(box: widgets.VBox) -> dict[str, widgets.IntSlider]:
    controls, _ = box.children
    return {s.description: s for column in controls.children for s in column.children}


def test_module_costs_reports_the_3a_numbers():
    lines = module_costs().splitlines()
    assert lines[0] == "Naive (no reduction): output 416x28x28, params 387,296, MACs 303,640,064"
    assert lines[1] == "Inception (1x1 reduction): output 256x28x28, params 163,696, MACs 128,337,664"
    assert lines[2] == "Naive / Inception: params x2.37, MACs x2.37"


def conv(k: int, c_in: int, c_out: int) -> int:
    """Parameters of a k x k convolution with bias, by hand: k*k*c_in weights and 1 bias per filter."""
    return (k * k * c_in + 1) * c_out


@pytest.mark.parametrize(
    "widths",
    [
        (256, 14, 128, 64, 96, 8, 48, 16),
        (3, 5, 1, 1, 1, 1, 1, 1),
    ],
)
def test_module_costs_equals_hand_counts(widths):
    """The report against counts written out by hand: every convolution has stride 1 and 'same' padding, so each
    weight and bias is used once per output position (size x size), and the pools cost nothing."""
    c, size, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj = widths
    naive = conv(1, c, ch1x1) + conv(3, c, ch3x3) + conv(5, c, ch5x5)
    reduced = conv(1, c, ch1x1) + conv(1, c, ch3x3red) + conv(3, ch3x3red, ch3x3)
    reduced += conv(1, c, ch5x5red) + conv(5, ch5x5red, ch5x5) + conv(1, c, pool_proj)
    positions = size * size
    naive_out, reduced_out = ch1x1 + ch3x3 + ch5x5 + c, ch1x1 + ch3x3 + ch5x5 + pool_proj  # naive: the pool passes c
    assert module_costs(*widths).splitlines() == [
        f"Naive (no reduction): output {naive_out}x{size}x{size}, params {naive:,}, MACs {naive * positions:,}",
        f"Inception (1x1 reduction): output {reduced_out}x{size}x{size}, params {reduced:,}, "
        f"MACs {reduced * positions:,}",
        f"Naive / Inception: params x{naive / reduced:.2f}, MACs x{naive / reduced:.2f}",
    ]


def test_show_module_costs_prints_module_costs(capsys):
    show_module_costs(ch5x5=33, plot=False)
    assert capsys.readouterr().out == module_costs(ch5x5=33) + "\n"


def test_show_module_costs_shows_the_chart_as_a_closed_png(monkeypatch, capsys):
    plt.close("all")
    shown = []
    monkeypatch.setattr("gooknet_helpers.widgets.display", shown.append)
    show_module_costs()
    assert len(shown) == 1 and shown[0].data.startswith(b"\x89PNG")
    assert plt.get_fignums() == []  # closed, so the inline backend cannot flush it half drawn


def test_the_chart_has_two_panels_of_two_bars():
    fig = naive_vs_reduced_bars([tuple(measure_module(k, 192, 28, TABLE1["3a"]) for k in ("naive", "inception"))])
    assert [len(ax.patches) for ax in fig.axes] == [2, 2]
    plt.close(fig)


def test_explorer_sliders_follow_the_contract():
    sliders = _sliders(explorer())
    assert tuple(sliders) == SLIDERS
    assert SLIDERS == ("in channels", "size", "#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj")
    assert [s.value for s in sliders.values()] == [192, 28, *TABLE1["3a"]]
    for s in sliders.values():
        assert isinstance(s, widgets.IntSlider)
        assert s.step == 1 and s.min <= s.value < s.max


def test_explorer_rerenders_on_change(capsys):
    plt.close("all")
    box = explorer()
    assert isinstance(box.children[1], widgets.Output)
    capsys.readouterr()
    _sliders(box)["#5x5"].value = 33  # one ArrowRight
    out = capsys.readouterr().out  # outside a kernel the Output widget lets prints through
    assert "Inception (1x1 reduction): output 257x28x28" in out
    assert module_costs(ch5x5=33) in out
    plt.close("all")


def test_explorer_output_rerenders_in_a_kernel():
    """In a real kernel the Output widget holds the new report (and a figure) after a slider moves."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("from gooknet_helpers.widgets import explorer\nbox = explorer()\nbox"),
            nbformat.v4.new_code_cell(
                "sliders = {s.description: s for column in box.children[0].children for s in column.children}\n"
                "sliders['#5x5'].value += 1"
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True).execute()
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    (outputs,) = [m["state"]["outputs"] for m in state.values() if m["model_name"] == "OutputModel"]
    assert [o["output_type"] for o in outputs] == ["stream", "display_data"]
    assert outputs[0]["text"] == module_costs(ch5x5=33) + "\n"
    assert "image/png" in outputs[1]["data"]
