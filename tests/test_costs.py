"""Cost accounting: torchinfo's counts, the hand formulas, and Table 1."""

import pytest

from gooknet_helpers import CIFAR, TABLE1, GoogLeNet, Inception, NaiveInception
from gooknet_helpers.costs import (
    KINDS,
    PAPER_TABLE1,
    Cost,
    branch_costs,
    build_module,
    conv_macs,
    conv_params,
    format_pairs,
    format_table1,
    measure,
    measure_module,
    module_in_place,
    stack_table1,
    table1,
    table1_pairs,
    weight_cost,
)
from gooknet_helpers.table1 import PRINTED, input_channels


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
    for name, row in rows.items():  # fc's output is flat: (1000,) where Table 1 prints 1x1x1000
        assert row.output_shape == (PRINTED[name].shape[:1] if name == "fc" else PRINTED[name].shape), name
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


def test_stacked_naive_modules_blow_up():
    naive, real = stack_table1("naive"), stack_table1("inception")
    assert [r.out_channels for r in real] == [PRINTED[f"inception{r.name}"].output[2] for r in real]
    assert naive[0].cost == Cost(387_296, 303_640_064)
    assert naive[-1].out_channels == input_channels("3a") + sum(w.ch1x1 + w.ch3x3 + w.ch5x5 for w in TABLE1.values())
    assert all(n.cost.macs > r.cost.macs for n, r in zip(naive, real, strict=True))


def test_table1_pairs_use_the_real_inputs():
    pairs = table1_pairs()
    assert [n.in_channels for n, _ in pairs] == [r.in_channels for _, r in pairs]
    assert [r.in_channels for _, r in pairs] == [input_channels(name) for name in TABLE1]
    assert pairs[0][1].cost == Cost(163_696, 128_337_664)
    text = format_pairs(pairs)
    assert "5,849,136" in text.splitlines()[-1]  # total params of the nine Inception modules


def test_build_module_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="'naive', 'naive-proj', 'inception'"):
        build_module("sparse", 192, TABLE1["3a"])


def test_naive_3b_has_one_meaning_and_the_naive_stack_another():
    in_place = module_in_place("naive", "3b")
    assert (in_place.in_channels, in_place.size) == (input_channels("3b"), PRINTED["inception3b"].output[0])
    assert table1_pairs()[1][0] == in_place
    assert in_place.cost.macs == measure(NaiveInception(256, 128, 192, 96), (256, 28, 28)).macs
    stacked = stack_table1("naive")[1]
    assert stacked.in_channels == stack_table1("naive")[0].out_channels > in_place.in_channels
    assert stacked.cost.macs > in_place.cost.macs


def test_naive_proj_is_the_module_of_googlenet_block_naive():
    rows = stack_table1("naive-proj")
    assert [r.in_channels for r in rows] == [input_channels(name) for name in TABLE1]
    model = GoogLeNet(10, aux_logits=False, block="naive", **CIFAR)
    for row in rows:
        module = getattr(model, f"inception{row.name}")
        assert sum(p.numel() for p in module.parameters()) > row.cost.params  # batch norm adds its scales
        plain = measure_module("naive-proj", row.in_channels, row.size, TABLE1[row.name])
        assert plain.out_channels == module.out_channels
    assert set(KINDS) == {"naive", "naive-proj", "inception"}
    assert {r.kind for r in rows} == {"naive-proj"}
