"""The answer checks of notebooks 01-02: right answers pass, wrong ones fail, None only asks, nothing leaks."""

import pytest

from gooknet_helpers import answer_checks
from gooknet_helpers.costs import conv_macs, conv_params

EXERCISES = {
    "nb01_params_3x3_3b": conv_params(256, 192, 3),
    "nb01_macs_5x5_3b": conv_macs(256, 96, 5, 28),
    "nb01_channels_tenth": 4_944 + 384 + 384 + 128,
    "nb02_params_4e_5x5": conv_params(528, 32, 1) + conv_params(32, 128, 5),
    "nb02_saving_5x5_5b": (5 * 5 * 832 * 128) / (832 * 48 + 5 * 5 * 48 * 128),
    "nb02_break_even": 154,
}


@pytest.mark.parametrize("name", EXERCISES)
def test_checker_accepts_right_and_rejects_wrong(name, capsys):
    ex = getattr(answer_checks, name)
    right = EXERCISES[name]
    assert ex.expected() == pytest.approx(right)
    assert ex.check(right) is True
    assert ex.check(right + 1) is False
    out = capsys.readouterr().out
    assert "Correct" in out and "Not quite" in out


@pytest.mark.parametrize("name", EXERCISES)
def test_checker_keeps_the_answer_until_asked(name, capsys):
    ex = getattr(answer_checks, name)
    assert ex.check(None) is False
    assert ex.check(0) is False
    shown = capsys.readouterr().out
    assert ex.question in shown
    expected = ex.expected()
    answer = f"{expected:,}" if isinstance(expected, int) else f"{expected:.2f}"
    assert answer not in shown
    ex.check(None, show=True)
    assert answer in capsys.readouterr().out


def test_ratio_accepts_two_decimals():
    assert answer_checks.nb02_saving_5x5_5b.check(13.76)
    assert not answer_checks.nb02_saving_5x5_5b.check(13.5)
