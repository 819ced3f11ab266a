"""Notebook 05's helpers: hooks that leave no trace, branch ablation, probes, Grad-CAM, v3-style module costs."""

import matplotlib.pyplot as plt
import pytest
import torch

from gooknet_helpers import CIFAR, GoogLeNet
from gooknet_helpers.analysis import (
    BRANCHES,
    ablate_branches,
    blank_top,
    branch_energy,
    capture,
    channel_shares,
    evaluating,
    grad_cam,
    inception_modules,
    linear_probe,
    read_out,
    run_from,
    switch_off,
    top_pixels,
)
from gooknet_helpers.costs import measure
from gooknet_helpers.data import batches
from gooknet_helpers.later import FactorisedInception, factorisation_costs, variant_table, window
from gooknet_helpers.plots_analysis import ablation_heatmap
from gooknet_helpers.shapes import trace_shapes

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def tiny(aux: bool = True) -> GoogLeNet:
    torch.manual_seed(0)
    model = GoogLeNet(10, aux, **CIFAR, width=1 / 16).eval()
    with torch.no_grad():  # non-trivial batch-norm statistics, so no branch is silent by accident
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.bias.uniform_(0.0, 0.3)
    return model


def images(n: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randint(0, 256, (n, 3, 32, 32), generator=g, dtype=torch.uint8)
    return x, torch.randint(0, 10, (n,), generator=g)


def no_hooks(model: torch.nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_switch_off_zeroes_one_branch_and_leaves_the_module_as_it_was():
    model, x = tiny(), torch.randn(2, 3, 32, 32)
    module = model.inception3a
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        clean = model(x)
        with switch_off(module, "branch2"), capture({"3a": module}) as out:
            ablated = model(x)
        after = model(x)
    c1 = module.branch1.conv.out_channels
    c2 = module.branch2[-1].conv.out_channels
    assert torch.count_nonzero(out["3a"][:, c1 : c1 + c2]) == 0
    assert torch.count_nonzero(out["3a"][:, :c1]) > 0
    assert not torch.allclose(clean, ablated)
    assert torch.equal(clean, after)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert no_hooks(model)


def test_capture_records_inputs_and_outputs_and_removes_its_hooks():
    model, x = tiny(), torch.randn(2, 3, 32, 32)
    modules = inception_modules(model)
    with torch.no_grad(), capture(modules) as outputs, capture(modules, inputs=True) as inputs:
        model(x)
    assert list(outputs) == list(inputs) == list(modules)
    assert torch.equal(inputs["inception3b"], outputs["inception3a"])
    assert outputs["inception5b"].shape == (2, modules["inception5b"].out_channels, 4, 4)
    assert no_hooks(model)


def test_hooks_and_mode_are_restored_when_the_block_raises():
    model = tiny().train()
    with (
        pytest.raises(ValueError),
        evaluating(model),
        capture(inception_modules(model)),
        switch_off(model.inception4a, "branch4"),
    ):
        assert not model.training
        model(torch.randn(1, 5, 32, 32))  # wrong channel count
    assert no_hooks(model) and model.training


def test_run_from_gives_the_forward_pass():
    model, x = tiny(), torch.randn(3, 3, 32, 32)
    layers = trace_shapes(model, 32)
    with torch.no_grad(), capture({"4a": model.inception4a}, inputs=True) as inputs:
        full = model(x)
        assert torch.allclose(run_from(model, layers, "conv1", x), full, atol=1e-6)
        assert torch.allclose(run_from(model, layers, "inception4a", inputs["4a"]), full, atol=1e-6)


def test_ablate_branches_agrees_with_switching_off_in_a_full_pass():
    model, (x, y) = tiny().train(), images(10)
    ablation = ablate_branches(model, x, y, batch_size=4, progress=False)
    assert model.training and no_hooks(model)
    assert ablation.modules == ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]
    assert ablation.branches == ("1x1", "3x3", "5x5", "pool")
    assert ablation.ablated.shape == (9, 4, 10)
    model.eval()
    (xn, _), *_ = batches(x, y, 10)
    with torch.no_grad():
        assert torch.equal(ablation.clean, model(xn).argmax(1) == y)
        for i, j in ((0, 0), (4, 2), (8, 3)):
            with switch_off(list(inception_modules(model).values())[i], BRANCHES[j]):
                assert torch.equal(ablation.ablated[i, j], model(xn).argmax(1) == y)
    assert ablation.drops().shape == ablation.standard_errors().shape == (9, 4)
    assert (ablation.standard_errors() >= 0).all()
    plt.close(ablation_heatmap(ablation))


def test_standard_error_of_a_paired_drop():
    from gooknet_helpers.analysis import Ablation

    clean = torch.tensor([True, True, True, False])
    ablated = torch.tensor([[[False, True, True, False]]])  # one image lost: differences 1, 0, 0, 0
    ablation = Ablation(["3a"], ("1x1",), clean, ablated)
    assert ablation.drops().item() == pytest.approx(25.0)
    assert ablation.standard_errors().item() == pytest.approx(100 * 0.5 / 2)  # sample std 0.5, sqrt(4) = 2


def test_branch_energy_is_the_mean_sum_of_squares_per_branch():
    model, (x, y) = tiny(), images(6)
    energy = branch_energy(model, x, batch_size=4)
    assert energy.shape == (9, 4) and (energy > 0).all()
    (xn, _), *_ = batches(x, y, 6)
    with torch.no_grad(), capture({"b": model.inception4c.branch3}) as out:
        model(xn)
    assert energy[4, 2].item() == pytest.approx(out["b"].pow(2).sum().item() / 6, rel=1e-4)
    shares = channel_shares(model)
    assert torch.allclose(shares.sum(1), torch.ones(9))
    assert no_hooks(model)


def test_read_out_gives_logits_aux_heads_and_pooled_features():
    model, (x, y) = tiny(), images(5)
    out = read_out(model, x, batch_size=2, progress=False)
    (xn, _), *_ = batches(x, y, 5)
    with torch.no_grad():
        assert torch.allclose(out.logits, model(xn), atol=1e-5)
    assert set(out.aux) == {"aux1", "aux2"} and out.aux["aux1"].shape == (5, 10)
    assert list(out.features)[0] == "conv3" and len(out.features) == 10
    assert out.features["inception5b"].shape == (5, model.inception5b.out_channels)
    assert no_hooks(model)
    assert read_out(tiny(aux=False), x, progress=False).aux == {}


def test_linear_probe_separates_separable_classes():
    g = torch.Generator().manual_seed(0)
    centres = 4 * torch.randn(3, 8, generator=g)
    y_train, y_test = torch.arange(3).repeat(40), torch.arange(3).repeat(20)
    x_train = centres[y_train] + torch.randn(120, 8, generator=g)
    x_test = centres[y_test] + torch.randn(60, 8, generator=g)
    train_acc, test_acc = linear_probe(x_train, y_train, x_test, y_test)
    assert train_acc > 0.9 and test_acc > 0.9  # chance is 1/3
    _, shuffled = linear_probe(x_train, y_train[torch.randperm(120, generator=g)], x_test, y_test)
    assert shuffled < test_acc


def test_grad_cam_shape_range_and_no_trace():
    model = tiny()
    x = torch.randn(3, 3, 32, 32)
    maps = grad_cam(model, model.inception4e, x)
    assert maps.shape == (3, 32, 32)
    assert (maps >= 0).all() and (maps <= 1 + 1e-6).all()
    assert all(m.max() == pytest.approx(1.0) or m.max() == 0 for m in maps)
    assert all(p.grad is None for p in model.parameters())
    assert no_hooks(model) and not model.training
    targets = torch.tensor([1, 2, 3])
    assert not torch.allclose(grad_cam(model, model.inception4e, x, targets), maps)
    probs = blank_top(model, x, maps, targets, fraction=0.3)
    with torch.no_grad():
        kept = ~top_pixels(maps, 0.3)
        expected = model(x * kept[:, None]).softmax(1).gather(1, targets[:, None])[:, 0]
    assert torch.allclose(probs, expected)  # the class's probability on the image with exactly those pixels at 0


class Recorder(torch.nn.Module):
    """A stand-in network that keeps the images it is given and answers 1/2 for each of two classes."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen = x.clone()
        return torch.zeros(len(x), 2)


def test_blank_top_blanks_exactly_the_fraction_asked_for_when_the_map_has_ties():
    """Regression (issue 22): with ties at the threshold, and with a map that is 0 almost everywhere (as Grad-CAM's
    ReLU makes it), every pixel at the threshold went: the whole image, when 80% or more of the map was 0."""
    maps = torch.zeros(2, 4, 4)
    maps[0].view(-1)[[3, 5, 6, 9, 12]] = torch.tensor([0.9, 0.5, 0.5, 0.5, 0.5])  # four pixels tie at 0.5
    maps[1].view(-1)[[0, 15]] = 1.0  # 14 of 16 pixels are 0
    # fraction 0.25 of 16 pixels: 4 go. Image 0: the 0.9 and the first three 0.5s in reading order; image 1: the
    # two 1.0s and the first two 0s.
    expected = torch.zeros(2, 16, dtype=torch.bool)
    expected[0, [3, 5, 6, 9]] = True
    expected[1, [0, 15, 1, 2]] = True
    assert torch.equal(top_pixels(maps, 0.25).flatten(1), expected)
    model = Recorder()
    images = torch.ones(2, 3, 4, 4)
    probs = blank_top(model, images, maps, torch.tensor([0, 1]), fraction=0.25)
    assert torch.equal(model.seen == 0, expected.view(2, 1, 4, 4).expand(2, 3, 4, 4))
    assert torch.equal(probs, torch.tensor([0.5, 0.5]))
    assert top_pixels(maps, 0.01).flatten(1).sum(1).tolist() == [1, 1]  # at least one pixel, as before


# Every convolution of FactorisedInception(8, 4, 3, 5, 2, 6, 4) as (k_h * k_w, c_in, c_out), written out by hand.
FIGURE5_CONVS = [(1, 8, 4), (1, 8, 3), (9, 3, 5), (1, 8, 2), (9, 2, 2), (9, 2, 6), (1, 8, 4)]
FIGURE6_CONVS = [(1, 8, 4), (1, 8, 3), (3, 3, 3), (3, 3, 5), (1, 8, 2), (3, 2, 2), (3, 2, 2), (3, 2, 2), (3, 2, 6)]
FIGURE6_CONVS += [(1, 8, 4)]


def test_factorised_module_costs_match_hand_formulas():
    size = 5
    for asymmetric, convs in ((False, FIGURE5_CONVS), (True, FIGURE6_CONVS)):
        module = FactorisedInception(8, 4, 3, 5, 2, 6, 4, asymmetric=asymmetric)
        params = sum((k * c_in + 1) * c_out for k, c_in, c_out in convs)  # weights + bias
        assert measure(module, (8, size, size)) == (params, params * size * size)  # stride 1: once per position
        assert module(torch.randn(1, 8, size, size)).shape == (1, 4 + 5 + 6 + 4, size, size)
    wide = FactorisedInception(8, 4, 3, 5, 2, 6, 4, mid_channels="out")
    assert wide.branch3[1].conv.out_channels == 6


def test_factorisation_chains_see_the_same_window_for_less():
    rows = {r.name: r for r in factorisation_costs(channels=16, size=9)}
    assert all(r.cost.macs == r.hand_macs for r in rows.values())
    assert rows["two 3x3"].window == rows["5x5"].window == (5, 5)
    assert rows["1x3 then 3x1"].window == (3, 3)
    assert rows["two 3x3"].cost.macs / rows["5x5"].cost.macs == pytest.approx(18 / 25)
    assert rows["1x7 then 7x1"].cost.macs / rows["7x7"].cost.macs == pytest.approx(14 / 49)
    assert window([(1, 3), (3, 1), (1, 3), (3, 1)]) == (5, 5)


def test_variant_table_keeps_input_and_output_channels():
    rows = variant_table()
    assert [r.name for r in rows] == ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]
    assert rows[0].in_channels == 192 and rows[0].out_channels == 256 and rows[0].size == 28
    for row in rows:
        v1, fig5, fig6 = row.costs.values()
        assert fig6.macs < v1.macs and fig5.macs < v1.macs


def test_bad_arguments_fail_clearly():
    with pytest.raises(ValueError, match="mid_channels"):
        FactorisedInception(8, 4, 3, 5, 2, 6, 4, mid_channels="wide")
    with pytest.raises(ValueError, match="odd"):
        FactorisedInception(8, 4, 3, 5, 2, 6, 4, n=4)


def test_notebook05_exercises_explain_wrong_answers(capsys):
    from gooknet_helpers import answer_checks

    assert answer_checks.nb05_two_3x3.check(0.28)
    assert not answer_checks.nb05_two_3x3.check(0.72)
    assert "still cost" in capsys.readouterr().out
    assert answer_checks.nb05_asymmetric.check(14 * 192 * 192 * 17 * 17)
    assert not answer_checks.nb05_asymmetric.check(49 * 192 * 192 * 17 * 17)
    assert "before it is factorised" in capsys.readouterr().out
    assert answer_checks.nb05_smoothing.check(0.9001)
    assert not answer_checks.nb05_smoothing.check(0.9)
    assert "spread over all 1,000 classes" in capsys.readouterr().out
    assert not answer_checks.nb05_smoothing.check(0.5)
    assert "is too low." in capsys.readouterr().out


def test_notebook05_exercises_read_a_typed_string_as_a_number(capsys):
    """Regression (issue 22): nb05's checkers raised TypeError on "0.28"; the other checkers read such strings."""
    from gooknet_helpers import answer_checks

    assert answer_checks.nb05_two_3x3.check("0.28")
    assert not answer_checks.nb05_two_3x3.check("0.72")
    assert "still cost" in capsys.readouterr().out  # the likely mistake is still recognised in a string
    assert answer_checks.nb05_asymmetric.check(f"{14 * 192 * 192 * 17 * 17:,}")
    assert answer_checks.nb05_smoothing.check("0.9001")
    assert not answer_checks.nb05_smoothing.check("ninety")
    assert "Not a number: 'ninety'" in capsys.readouterr().out


def test_switch_off_exercise_counts_on_the_given_model():
    from gooknet_helpers import answer_checks

    model, (x, y) = tiny(), images(8)
    exercise = answer_checks.nb05_switch_off(model, x, y)
    (xn, _), *_ = batches(x, y, 8)
    with torch.no_grad(), switch_off(model.inception5b, "branch4"):
        expected = int((model(xn).argmax(1) == y).sum())
    assert exercise.check(expected)
    assert no_hooks(model)
