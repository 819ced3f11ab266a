"""Figures drawn from the modules: the labels follow the object (widths, kernels, aux heads), and nothing overlaps."""

import itertools

import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle
from matplotlib.text import Text
from torchvision.models.googlenet import Inception as TorchvisionInception

from gooknet_helpers import CIFAR, TORCHVISION, GoogLeNet, Inception, InceptionAux, NaiveInception
from gooknet_helpers.diagrams import (
    AUX_COLOR,
    REDUCTION_COLOR,
    aux_diagram,
    module_diagram,
    multiscale_windows,
    network_diagram,
)


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def boxes(fig: Figure, color: str | None = None) -> list[FancyBboxPatch]:
    found = [p for ax in fig.axes for p in ax.patches if isinstance(p, FancyBboxPatch)]
    return [p for p in found if color is None or p.get_facecolor() == pytest.approx(_rgba(color))]


def _rgba(color: str) -> tuple[float, ...]:
    return tuple(int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)) + (1.0,)


def assert_readable(fig: Figure) -> None:
    """No two labels overlap, and every label inside a box stays inside it."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    labels = [t for ax in fig.axes for t in ax.texts if t.get_text()]
    extents = {t: t.get_window_extent(renderer) for t in labels}
    for a, b in itertools.combinations(labels, 2):
        assert not extents[a].overlaps(extents[b]), f"{a.get_text()!r} overlaps {b.get_text()!r}"
    for patch in boxes(fig):
        frame = patch.get_window_extent(renderer)
        inside = [t for t in labels if frame.contains(*patch.axes.transData.transform(t.get_position()))]
        assert inside, "a box without a label"
        for t in inside:
            text = extents[t]
            assert frame.x0 <= text.x0 and text.x1 <= frame.x1, f"{t.get_text()!r} is wider than its box"
            assert frame.y0 <= text.y0 and text.y1 <= frame.y1, f"{t.get_text()!r} is taller than its box"


def test_module_diagram_draws_figure_2b_from_the_module():
    fig = module_diagram(Inception(192, 64, 96, 128, 16, 32, 32))
    drawn = texts(fig)
    assert isinstance(fig, Figure)
    for label in ("1x1 conv, 64", "1x1 conv, 96", "3x3 conv, 128\npad 1", "1x1 conv, 16", "5x5 conv, 32\npad 2"):
        assert label in drawn
    assert "3x3 max pool\nstride 1, pad 1" in drawn
    assert "previous layer: 192 channels" in drawn
    assert "filter concatenation: 64 + 128 + 32 + 32 = 256 channels" in drawn
    assert "Figure 2(b)" in fig.axes[0].get_title()
    assert len(boxes(fig)) == 2 + 7
    assert len(boxes(fig, REDUCTION_COLOR)) == 3  # two reductions and the pool projection
    assert_readable(fig)


def test_module_diagram_follows_widths_and_kernel():
    narrow = texts(module_diagram(Inception(96, 32, 48, 64, 8, 16, 16)))
    assert "3x3 conv, 64\npad 1" in narrow and "3x3 conv, 128\npad 1" not in narrow
    assert "filter concatenation: 32 + 64 + 16 + 16 = 128 channels" in narrow
    three = texts(module_diagram(Inception(192, 64, 96, 128, 16, 32, 32, branch3_kernel=3)))
    assert "3x3 conv, 32\npad 1" in three and not any("5x5" in t for t in three)
    torchvision = module_diagram(TorchvisionInception(192, 64, 96, 128, 16, 32, 32))
    assert "3x3 conv, 32\npad 1" in texts(torchvision)
    assert "each conv box: conv + BatchNorm + ReLU" in texts(torchvision)


def test_naive_module_draws_figure_2a():
    fig = module_diagram(NaiveInception(192, 64, 128, 32))
    drawn = texts(fig)
    assert "Figure 2(a)" in fig.axes[0].get_title()
    assert len(boxes(fig)) == 2 + 4 and not boxes(fig, REDUCTION_COLOR)
    assert "3x3 max pool\nstride 1, pad 1\nno projection: all\n192 channels pass" in drawn
    assert "filter concatenation: 64 + 128 + 32 + 192 = 416 channels" in drawn
    projected = texts(module_diagram(NaiveInception(192, 64, 128, 32, pool_proj=32)))
    assert "1x1 conv, 32" in projected and not any("no projection" in t for t in projected)
    assert_readable(fig)


def test_module_diagram_draws_into_given_axes():
    fig = Figure(figsize=(14, 4.5))
    left, right = fig.subplots(1, 2)
    assert module_diagram(NaiveInception(192, 64, 128, 32), ax=left) is fig
    module_diagram(Inception(192, 64, 96, 128, 16, 32, 32), ax=right, title="3a")
    assert right.get_title() == "3a" and len(boxes(fig)) == 6 + 9


def test_network_diagram_shows_stages_shapes_and_aux_heads():
    model = GoogLeNet(width=0.25).train()
    fig = network_diagram(model)
    drawn = texts(fig)
    assert model.training  # restored after the eval-mode forward
    for label in ("input\n3x224x224", "7x7/2 conv, 16\n16x112x112", "LRN (size 5)\n16x56x56", "inception 3a\n64x28x28"):
        assert label in drawn
    for label in ("inception 4e\n208x14x14", "3x3/2 max pool\n208x7x7", "inception 5b\n256x7x7", "FC 1000\n1000"):
        assert label in drawn
    assert {"stem", "stage 3: 28x28 maps", "stage 4: 14x14 maps", "stage 5: 7x7 maps", "classifier"} <= set(drawn)
    aux = [t for t in drawn if t.startswith("aux")]
    assert len(aux) == 2 and "after 4a" in aux[0] and "after 4d" in aux[1]
    assert "5x5/3 avg pool: 128x4x4\n1x1 conv, 32: 32x4x4\nFC 256 + ReLU: 256\ndropout 0.7: 256" in aux[0]
    assert len(boxes(fig, AUX_COLOR)) == 2
    assert not boxes(network_diagram(model, highlight_aux=False), AUX_COLOR)
    assert_readable(fig)


def test_network_diagram_has_a_colour_key_that_tells_every_kind_apart():
    """Issue 17: the fully connected layer had the 3x3 convolution's orange, and nothing said what a colour meant."""
    fig = network_diagram(GoogLeNet(width=0.25))
    (legend,) = [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    key = {
        t.get_text(): tuple(h.get_facecolor()) for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
    }
    assert {"1x1 conv", "3x3 conv", "pooling", "fully connected", "Inception module (Figure 2b)"} <= set(key)
    assert "training-only auxiliary head" in key and "input, 7x7 conv, LRN, dropout" in key
    assert len(set(key.values())) == len(key)  # one colour per entry: FC is not the 3x3's orange
    for label, color in key.items():  # and each colour is one the boxes have
        assert any(tuple(b.get_facecolor()) == color for b in boxes(fig)), label
    assert_readable(fig)


def test_network_diagram_follows_the_model():
    quarter = texts(network_diagram(GoogLeNet(width=0.25, aux_logits=False)))
    assert "inception 3a\n64x28x28" in quarter and not any(t.startswith("aux") for t in quarter)
    model = GoogLeNet(width=0.125).eval()
    eighth = texts(network_diagram(model))
    assert not model.training
    assert "inception 3a\n32x28x28" in eighth and sum(t.startswith("aux") for t in eighth) == 2
    torchvision = texts(network_diagram(GoogLeNet(aux_logits=False, width=0.125, **TORCHVISION)))
    assert "2x2/2 max pool\n104x7x7" in torchvision and "dropout 0.2\n128" in torchvision
    assert not any(t.startswith("LRN") for t in torchvision)
    assert any("1x1 \u2192 3x3 | 1x1 \u2192 3x3 | 3x3 \u2192 1x1" in t and "BatchNorm" in t for t in torchvision)
    cifar = network_diagram(GoogLeNet(10, width=0.125, **CIFAR))
    assert {"input\n3x32x32", "3x3 conv, 8\n8x32x32", "stage 4: 8x8 maps", "FC 10\n10"} <= set(texts(cifar))
    assert any("adaptive avg pool to 4x4: 64x4x4" in t for t in texts(cifar))
    naive = texts(network_diagram(GoogLeNet(block="naive", width=0.125, aux_logits=False)))
    assert "naive 3a\n32x28x28" in naive
    assert any("Figure 2(a) module with branches 1x1 | 3x3 | 5x5 | 3x3 \u2192 1x1" in t for t in naive)
    assert_readable(cifar)


def test_network_diagram_shows_an_aux_head_that_cannot_run():
    drawn = texts(network_diagram(GoogLeNet(stem="small", width=0.125)))
    assert any("5x5/3 avg pool" in t and "fails on this 8x8 map" in t for t in drawn)


def test_aux_diagram_reads_the_head():
    fig = aux_diagram(GoogLeNet(width=0.25).aux1)
    assert texts(fig)[:6] == [
        "input\n128x14x14",
        "5x5/3 avg pool\n128x4x4",
        "1x1 conv, 32\n32x4x4",
        "FC 256 + ReLU\n256",
        "dropout 0.7\n256",
        "FC 1000\n1000",
    ]
    adaptive = texts(aux_diagram(InceptionAux(512, 10, pool="adaptive", dropout=0.5), size=7))
    assert {
        "input\n512x7x7",
        "adaptive avg pool to 4x4\n512x4x4",
        "1x1 conv, 128\n128x4x4",
        "dropout 0.5\n1024",
    } <= set(adaptive)
    assert_readable(fig)


def test_multiscale_windows_over_an_image():
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    fig = multiscale_windows(image, centre=(10, 20))
    assert len(fig.axes) == 2 and all(ax.images for ax in fig.axes)
    squares = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert [(p.get_width(), p.get_xy()) for p in squares] == [
        (1, (19.5, 9.5)),
        (3, (18.5, 8.5)),
        (5, (17.5, 7.5)),
        (9, (15.5, 5.5)),
    ]
    assert {"1x1 window", "3x3 window", "5x5 window", "2 stacked 5x5 layers see 9x9"} <= set(texts(fig))
    panel = Figure().add_subplot()
    multiscale_windows(torch.rand(3, 24, 24), ax=panel, stacked=3)
    assert "3 stacked 5x5 layers see 13x13" in texts(panel.figure)
    alone = multiscale_windows(torch.rand(1, 24, 24), stacked=0)
    assert len([p for p in alone.axes[0].patches if isinstance(p, Rectangle)]) == 3
