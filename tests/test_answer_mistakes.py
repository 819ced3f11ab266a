"""The numeric checkers of notebooks 01-04 recognise the likely wrong answers and say what each probably counted
(issue 17): "off by N: did you ...?", as notebook 05's checkers do."""

import re

import pytest

from gooknet_helpers import answer_checks, answer_mistakes
from gooknet_helpers.costs import conv_macs, conv_params
from gooknet_helpers.exercise import Exercise, ExplainedExercise, close

NAMES = [
    name
    for name in dir(answer_checks)
    if name[:4] in ("nb01", "nb02", "nb03", "nb04") and isinstance(getattr(answer_checks, name), Exercise)
]

# (exercise, a wrong answer, what the message must name): one or more per exercise, the causes the issue lists
# (biases, MACs vs FLOPs, input vs output size, the pool branch's channels) among them.
CASES = [
    (
        "nb01_params_3x3_3b",
        conv_params(256, 192, 3, bias=False),
        r"off by 192 \(too low\)\. Did you leave out the biases",
    ),
    ("nb01_params_3x3_3b", conv_params(192, 192, 3), r"Did you take 3a's input, 192 channels\? 3b gets 256"),
    ("nb01_params_3x3_3b", conv_macs(256, 192, 3, 28), r"off by a factor of 784.*Did you count multiply-adds"),
    ("nb01_params_3x3_3b", conv_params(256, 192, 1), r"Did you count a 1x1 kernel"),
    ("nb01_macs_5x5_3b", 2 * conv_macs(256, 96, 5, 28), r"off by a factor of 2 \(too high\)\. Did you count FLOPs"),
    ("nb01_macs_5x5_3b", conv_macs(256, 96, 5, 28, bias=False), r"off by 75,264.*Did you leave out the bias adds"),
    ("nb01_macs_5x5_3b", conv_params(256, 96, 5) * 32 * 32, r"padded 32x32 input\? .*output stays 28x28"),
    ("nb01_macs_5x5_3b", conv_params(256, 96, 5), r"off by a factor of 784.*Did you count the parameters"),
    (
        "nb01_channels_tenth",
        384 + 384 + 128,
        r"off by 4,944 \(too low\)\. Did you leave out the pool branch's channels",
    ),
    ("nb01_channels_tenth", 1024, r"real 5b, with its pool projection"),
    ("nb02_params_4e_5x5", 528 * 32 + 25 * 32 * 128, r"off by 160 \(too low\)\. Did you leave out the biases"),
    ("nb02_params_4e_5x5", conv_params(32, 128, 5), r"Did you count the 5x5 convolution only"),
    ("nb02_params_4e_5x5", conv_params(512, 32, 1) + conv_params(32, 128, 5), r"Did you take 4d's input"),
    ("nb02_params_4e_5x5", conv_params(528, 128, 5), r"straight from the 528 input channels"),
    ("nb02_saving_5x5_5b", 0.0727, r"Did you divide the reduced cost by the direct one"),
    ("nb02_saving_5x5_5b", 17.33, r"leave out the 1x1 reduction's own cost"),
    ("nb02_break_even", 155, r"off by 1 \(too high\)\. Did you round the break-even width up"),
    ("nb02_break_even", 191, r"Did you compare the 5x5 convolutions only"),
    ("nb03_field_3b_cifar", 91, r"Did you use the paper's stem"),
    ("nb03_field_3b_cifar", 15, r"4 per module, or keep a step of 1"),
    ("nb03_field_5b_torchvision", 715, r"Did you give the paper's network"),
    ("nb03_field_5b_torchvision", 395, r"max pool before stage 5 as 3x3"),
    ("nb03_aux_params_cifar", 3_188_840, r"Did you keep ImageNet's 1,000 classes"),
    ("nb03_aux_params_cifar", 2_172_928, r"off by 1,162 \(too low\)\. Did you leave out the biases"),
    ("nb03_aux_params_cifar", 2_176_138, r"second head's input, 4d's 528 channels"),
    ("nb03_aux_params_cifar", 208_010, r"Did you give fc1 128 inputs"),
    ("nb03_side_320", 10, r"off by a factor of 2 \(too low\)\. Did you halve once more"),
    ("nb03_side_320", 14, r"Table 1's 224x224 input"),
    ("nb03_side_320", 19, r"off by 1 \(too low\)\. Did you round down\? The pools use ceil_mode=True"),
    ("nb04_steps", 2352, r"off by 24 \(too high\)\. Did you keep each epoch's last partial batch"),
    ("nb04_steps", 97, r"Did you count one epoch"),
    ("nb04_crops", 81, r"off by a factor of 2 \(too low\)\. Did you leave out the flip"),
    ("nb04_crops", 128, r"Did you count 8 offsets per direction"),
    ("nb04_lr", 0.4, r"Did you give the peak"),
    ("nb04_lr", 0.324, r"cosine fall"),
]


@pytest.mark.parametrize(("name", "answer", "cause"), CASES, ids=[f"{n}-{a:g}" for n, a, _ in CASES])
def test_a_likely_mistake_is_named(name, answer, cause, capsys):
    assert getattr(answer_checks, name).check(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("Not quite") and re.search(cause, out), out


def test_every_exercise_recognises_some_mistakes():
    assert set(NAMES) <= {name for name, _, _ in CASES}
    assert len(NAMES) == 13


@pytest.mark.parametrize("name", NAMES)
def test_each_mistake_is_told_apart_from_the_answer_and_the_others(name, capsys):
    exercise = getattr(answer_checks, name)
    expected, mistakes = exercise.expected(), exercise.mistakes()
    assert mistakes, name
    for value, text in mistakes.items():
        assert not close(value, expected, exercise.rel_tolerance)
        assert sum(close(value, other, exercise.rel_tolerance) for other in mistakes) == 1
        assert exercise.check(value) is False
        out = capsys.readouterr().out
        assert "off by" in out and text in out


def test_an_answer_no_mistake_explains_is_only_told_too_high_or_too_low(capsys):
    exercise = answer_checks.nb01_params_3x3_3b
    assert not exercise.check(442_561)
    out = capsys.readouterr().out
    assert "too high" in out and "off by" not in out and "Did you" not in out and "442,560" not in out
    assert not exercise.check(1_000)
    assert "about x" in capsys.readouterr().out  # the order of magnitude, for an answer far off


def test_the_questions_name_what_the_answer_depends_on():
    assert "largest number of reduction channels r" in answer_checks.nb02_break_even.question
    assert "widest" not in answer_checks.nb02_break_even.question
    question = answer_checks.nb03_field_5b_torchvision.question
    assert "max pool before stage 5 (maxpool4) is 2x2/2" in question
    assert answer_checks.nb03_field_5b_torchvision.expected() == 379


def test_the_learning_rate_working_explains_the_plus_one():
    working = answer_checks.nb04_lr.working()
    assert "(2328 - 466 + 1)" in working and "the + 1 in the decay's denominator" in working


def _switch_off_exercise() -> ExplainedExercise:
    """nb05's switch_off exercise on made-up counts of 500 images: 445 right with the pool branch off."""
    counts = {
        (None, None): 460,
        ("branch4", None): 445,
        ("branch3", None): 400,
        ("branch1", None): 430,
        ("branch4", 1.0): 53,  # fed images.float() / 1, without normalize
        ("branch4", 255.0): 61,  # fed images.float() / 255
    }

    def correct(branch, scale=None):
        return counts[branch, scale]

    return ExplainedExercise(
        "How many of these 500 test images ...?",
        expected=lambda: 445,
        working=lambda: "445 of 500",
        mistakes=lambda: answer_mistakes.nb05_switch_off(correct, 500),
    )


@pytest.mark.parametrize(
    ("answer", "cause"),
    [
        (53, r"Not quite: 53 is off by 392 \(too low\)\. Did you feed the images without normalize\?"),
        (61, r"Did you feed the images without normalize\?"),
        (0.89, r"Did you give a fraction\? The answer is a count: how many of the 500 images"),
        (0.9, r"Did you give a fraction\?"),
        (89, r"Did you give a percentage\? The answer is a count"),
        (460, r"off by 15 \(too high\)\. That is the count with every branch on"),
    ],
)
def test_the_switch_off_exercise_names_its_likely_mistakes(answer, cause, capsys):
    assert _switch_off_exercise().check(answer) is False
    out = capsys.readouterr().out
    assert re.search(cause, out) and "Try again, or call with show=True." in out, out


def test_notebook_05_checkers_word_a_wrong_answer_as_01_to_04_do(capsys):
    assert _switch_off_exercise().check(300) is False
    out = capsys.readouterr().out
    assert out.startswith("Not quite: 300 is too low.") and "is not it" not in out and "Did you" not in out, out
    assert _switch_off_exercise().check(445) is True
