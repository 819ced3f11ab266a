"""Cost accounting: torchinfo's counts, the hand formulas, and Table 1."""

import pytest

from gooknet_helpers import TABLE1, GoogLeNet, Inception, NaiveInception
from gooknet_helpers.costs import (
    PAPER_TABLE1,
    Cost,
    branch_costs,
    conv_macs,
    conv_params,
    format_table1,
    measure,
    table1,
    weight_cost,
)


def test_3a_naive_and_bottleneck_costs():
    assert measure(NaiveInception(192, 64, 128, 32), (192, 28, 28)) == Cost(387_296, 303_640_064)
    assert measure(Inception(192, *TABLE1["3a"]), (192, 28, 28)) == Cost(163_696, 128_337_664)


def test_5x5_worked_example_by_hand():
    direct = conv_macs(192, 32, 5, 28, bias=False)
    reduced = conv_macs(192, 16, 1, 28, bias=False) + conv_macs(16, 32, 5, 28, bias=False)
    assert (direct, reduced) == (120_422_400, 12_443_648)


def test_branch_costs_add_up_and_match_hand_formulas():
    block = Inception(192, *TABLE1["3a"])
    branches = branch_costs(block, (192, 28, 28))
    assert sum(c.params for c in branches.values()) == 163_696
    assert sum(c.macs for c in branches.values()) == 128_337_664
    assert branches["branch1"] == Cost(conv_params(192, 64, 1), conv_macs(192, 64, 1, 28))
    assert branches["branch3"].params == conv_params(192, 16, 1) + conv_params(16, 32, 5)


def test_weight_cost_leaves_out_biases():
    assert weight_cost(Inception(192, *TABLE1["3a"]), (192, 28, 28)) == Cost(163_328, 128_049_152)


def test_table1_rows_and_known_discrepancies():
    rows = {r.name: r for r in table1(GoogLeNet())}
    assert list(rows) == list(PAPER_TABLE1)
    assert rows["conv1"].weights == 7 * 7 * 3 * 64
    assert rows["conv1"].output_shape == (64, 112, 112)
    assert rows["inception5b"].output_shape == (1024, 7, 7)
    assert rows["inception3a"].params_ratio == pytest.approx(1, abs=0.01)
    assert rows["inception4c"].params_ratio > 1.05  # printed 463K, arithmetic 497.5K
    assert rows["inception5a"].params_ratio < 0.96  # printed 1072K, arithmetic 1018K
    assert rows["inception4c"].ops_ratio == pytest.approx(1, abs=0.01)
    total_weights = sum(r.weights for r in rows.values())
    total_macs = sum(r.weight_macs for r in rows.values())
    assert 6.8e6 < total_weights < 7.1e6
    assert 1.5e9 < total_macs < 1.6e9
    text = format_table1(list(rows.values()))
    assert "conv1" in text and "x3.40" in text
