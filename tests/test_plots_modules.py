"""Figures of notebooks 01-02: each returns a Figure with the expected bars, boxes and panels."""

import matplotlib.pyplot as plt
import torch

from gooknet_helpers import TABLE1, NaiveInception
from gooknet_helpers.costs import branch_costs, measure_module
from gooknet_helpers.plots import branch_bars, feature_maps, naive_vs_reduced_bars


def _pair(name: str, in_channels: int, size: int):
    return tuple(measure_module(kind, in_channels, size, TABLE1[name], name) for kind in ("naive", "inception"))


def test_branch_bars_has_one_bar_per_branch():
    costs = branch_costs(NaiveInception(192, 64, 128, 32), (192, 28, 28))
    fig = branch_bars(costs, "3a")
    assert [len(ax.patches) for ax in fig.axes] == [4, 4]
    assert fig.axes[0].patches[1].get_height() == costs["branch2"].params / 1e3
    plt.close(fig)


def test_naive_vs_reduced_bars_groups_pairs():
    pairs = [_pair("3a", 192, 28), _pair("3b", 256, 28)]
    fig = naive_vs_reduced_bars(pairs)
    assert [len(ax.patches) for ax in fig.axes] == [4, 4]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["3a", "3b"]
    plt.close(fig)
    fig = naive_vs_reduced_bars(pairs, ("channels", "gmacs", "params"))
    assert len(fig.axes) == 3
    assert sorted(p.get_height() for p in fig.axes[0].patches) == [256, 416, 480, 672]
    plt.close(fig)


def test_feature_maps_grid():
    maps = {f"branch{i}": torch.rand(6, 16, 16) for i in range(1, 5)}
    maps["pool"] = torch.rand(3, 16, 16)  # a pass-through pool: the input's R, G and B
    fig = feature_maps(torch.rand(3, 16, 16), maps, per_branch=3, channel_names={"pool": "RGB"})
    assert len(fig.axes) == 5 * (3 + 1) + 1  # and one colour bar
    assert sum(len(ax.images) for ax in fig.axes) == 1 + 5 * 3
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[-4:-1] == ["R", "G", "B"] and titles[1].startswith("channel ")
    assert "each map scaled to its own range" in fig.axes[-1].get_ylabel()
    plt.close(fig)
