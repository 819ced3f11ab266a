"""The ablations' statistics: the 95% Welch t-interval of a difference and the fixed verdict rules."""

import pytest

from gooknet_helpers.ablations import compare_arms, verdict, welch_interval


def runs(values: dict[str, tuple[float, ...]]) -> list[dict]:
    return [dict(arm=arm, seed=s, final_test_acc=v) for arm, vs in values.items() for s, v in enumerate(vs)]


def test_the_interval_uses_the_t_quantile_of_the_welch_degrees_of_freedom():
    # Equal spreads and 4 seeds each: Welch's degrees of freedom are 4 + 4 - 2 = 6, t(0.975, 6) = 2.446912.
    a, b = [0.60, 0.62, 0.64, 0.66], [0.50, 0.52, 0.54, 0.56]
    difference, half_width, df = welch_interval(a, b)
    se = (2 * (0.02 * (5 / 3) ** 0.5) ** 2 / 4) ** 0.5  # sample std of 4 values 0.02 apart: 0.02 * sqrt(5/3)
    assert df == pytest.approx(6) and difference == pytest.approx(0.10)
    assert half_width == pytest.approx(2.446912 * se, rel=1e-5)  # not 1.96 (normal) nor 2 (the old "2 SE")


def test_unequal_spreads_get_fewer_degrees_of_freedom():
    _, _, df = welch_interval([0.60, 0.62, 0.64], [0.50, 0.51, 0.52])
    assert df == pytest.approx(2.941, abs=1e-3)  # (va + vb)^2 / (va^2 / 2 + vb^2 / 2), va = 4 vb


def test_verdicts_follow_the_three_rules():
    better = compare_arms(runs({"a": (0.60, 0.62, 0.64, 0.66), "b": (0.50, 0.52, 0.54, 0.56)}), "a", "b")
    assert better["verdict"] == "a better by 10.00 points" and better["interval"][0] > 0
    worse = compare_arms(runs({"a": (0.50, 0.52, 0.54, 0.56), "b": (0.60, 0.62, 0.64, 0.66)}), "a", "b")
    assert worse["verdict"] == "b better by 10.00 points"
    close = compare_arms(runs({"a": (0.800, 0.801, 0.802, 0.803), "b": (0.799, 0.800, 0.801, 0.802)}), "a", "b")
    assert 100 * close["half_width"] == pytest.approx(0.2234, abs=1e-4)
    assert close["verdict"] == "no difference larger than 0.32 points"  # the interval's far end, 0.10 + 0.22
    wide = compare_arms(runs({"a": (0.70, 0.74, 0.78, 0.82), "b": (0.72, 0.76, 0.80, 0.84)}), "a", "b")
    assert wide["verdict"] == "unsettled at this budget" and wide["interval"][0] < 0 < wide["interval"][1]


def test_the_no_difference_rule_stops_at_one_point():
    assert verdict("a", "b", 0.0, 0.0100) == "no difference larger than 1.00 points"
    assert verdict("a", "b", 0.0, 0.0101) == "unsettled at this budget"
    assert verdict("a", "b", 0.0102, 0.0101) == "a better by 1.02 points"


def test_an_interval_needs_two_seeds_per_arm():
    with pytest.raises(ValueError, match="2 seeds per arm"):
        compare_arms(runs({"a": (0.6,), "b": (0.5, 0.6)}), "a", "b")


def test_the_figure_states_the_budget_and_shows_every_seed_and_interval():
    import matplotlib.pyplot as plt

    from gooknet_helpers import plots
    from gooknet_helpers.ablations import compare_all

    values = {"bottleneck": (0.80, 0.80, 0.81, 0.82), "bottleneck + aux": (0.80, 0.81, 0.81, 0.83)}
    values["naive"] = (0.70, 0.71, 0.72, 0.72)
    budget = dict(name="cpu", width=0.125, train=50000, test=10000, epochs=12, batch_size=128, lr=0.1)
    comparisons, waiting = compare_all(runs(values))
    assert not waiting
    fig = plots.ablation_figure(dict(budget=budget, runs=runs(values)), comparisons, list(values))
    left, right = fig.axes
    dots = [line for line in left.lines if line.get_marker() == "o"]
    assert [len(line.get_xdata()) for line in dots] == [4, 4, 4]
    xs = dots[0].get_xdata()
    assert len(set(xs)) == 4  # equal accuracies (0.80, 0.80) stay side by side, not on top of each other
    title = fig._suptitle.get_text()
    assert "width 0.125" in title and "12 epochs" in title and "50,000" in title and "4 seeds per arm" in title
    texts = [t.get_text() for t in right.texts]
    assert texts == [c["verdict"] for c in comparisons.values()]
    plt.close(fig)
