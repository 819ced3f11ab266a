"""What a numeric exercise is, and how it reads and judges an answer: `Exercise.check(answer)`.

An exercise holds its question, its expected answer and its working (both computed on demand), a tolerance,
and its likely wrong answers, each with what it probably counted. `check` reads a number however a learner
types it (`read_answer`), says whether it is right, too high or too low, or what a recognised wrong answer
counted, and shows the working (and so the answer) only when asked with `show=True`. The notebooks' exercises
are in `answer_checks`; their likely wrong answers in `answer_mistakes`.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

EXAMPLE = 'Type a number, e.g. check(12345) or check("12,345").'


def read_answer(answer: object) -> float | int | None:
    """`answer` as a number: an int or float, a NumPy number, a one-element tensor or array, or a string such as
    "442,560", "0.28" or "1e6" (commas, underscores and spaces are ignored); None stays None (the question is
    asked). Anything else, or a number that is not finite, raises ValueError whose text is the sentence to print."""
    if answer is None:
        return None
    if isinstance(answer, bool):
        raise ValueError(f"{answer} is a truth value, not a number. {EXAMPLE}")
    if isinstance(answer, str):
        text = answer.strip().replace(",", "").replace("_", "").replace(" ", "")
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"Not a number: {answer!r}. {EXAMPLE}") from None
    elif isinstance(answer, numbers.Real):
        value = float(answer)
    elif callable(getattr(answer, "item", None)):  # a tensor or NumPy array of one number
        try:
            value = float(answer.item())
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"check() takes one number, not a {type(answer).__name__} of several. {EXAMPLE}") from None
    else:
        raise ValueError(f"check() takes one number, not a {type(answer).__name__} ({answer!r:.60}). {EXAMPLE}")
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{answer!r} is not a finite number, so it cannot be the answer. {EXAMPLE}")
    exact = isinstance(answer, numbers.Integral) or (isinstance(answer, str) and not any(c in text for c in ".eE"))
    return int(value) if exact and value.is_integer() else value


def read_show(show: object) -> bool:
    """`show` if it is True or False; else ValueError whose text is the sentence to print (a string such as "no"
    would otherwise count as yes, and print the answer)."""
    if not isinstance(show, bool):
        raise ValueError(f"show must be True or False, not {show!r}: check(answer, show=True) prints the working.")
    return show


@dataclass(frozen=True)
class Exercise:
    """A numeric question whose expected answer and working are computed on demand."""

    question: str
    expected: Callable[[], float]
    working: Callable[[], str]
    rel_tolerance: float = 0.0
    # Likely wrong answers: {value: "Did you ...? why"}; an answer within the tolerance of one is told what it
    # probably counted, and by how much it is off.
    mistakes: Callable[[], dict[float, str]] = dict

    def check(self, answer: float | str | None = None, show: bool = False) -> bool:
        """Print whether `answer` is right (and, if not, whether it is too high or too low); with show=True also
        print the working. A string such as "442,560" is read as a number (`read_answer`); anything that is not one
        number, or a `show` that is not True or False, gets a sentence and False."""
        try:
            show, answer = read_show(show), read_answer(answer)
        except ValueError as error:
            print(error)
            return False
        expected = self.expected()
        correct = answer is not None and abs(answer - expected) <= self.rel_tolerance * abs(expected)
        if answer is None:
            print(f"Q: {self.question}\n{self.precision()} Type your number, e.g. check(12345).")
        elif correct:
            print(f"Correct: {answer:,}.")
        else:
            print(self.not_quite(answer, expected))
        if show:
            print(self.working())
        return correct

    def not_quite(self, answer: float, expected: float) -> str:
        """What a wrong answer is told: what it probably counted, if it is a likely mistake; else too high or too
        low (with the factor, when it is 2 or more), never the answer."""
        why = next((text for value, text in self.mistakes().items() if close(answer, value, self.rel_tolerance)), None)
        if why:
            return f"Not quite: {answer:,} is {off_by(answer, expected)}. {why} Try again, or call with show=True."
        side = "too high" if answer > expected else "too low"
        ratio = answer / expected if expected else 0
        factor = f" (about x{ratio:.2g} the answer)" if ratio >= 2 or 0 < ratio <= 0.5 else ""
        return f"Not quite: {answer:,} is {side}{factor}. {self.precision()} Try again, or call with show=True."

    def precision(self) -> str:
        """How close an answer must be."""
        if self.rel_tolerance == 0:
            return "The answer is an exact count."
        return f"Answers within {self.rel_tolerance * 100:.2g}% of it count as right."


def off_by(answer: float, expected: float) -> str:
    """How far a recognised wrong answer is from the right one: "off by 192 (too low)", "off by a factor of 2"."""
    side = "too high" if answer > expected else "too low"
    if expected and answer / expected > 0:
        factor = max(answer / expected, expected / answer)
        if factor >= 1.5 and abs(factor - round(factor)) <= 1e-6 * factor:
            return f"off by a factor of {round(factor):,} ({side})"
    difference = abs(answer - expected)
    if difference == int(difference):
        return f"off by {int(difference):,} ({side})"
    return f"off by {difference:.3g} ({side})"


def close(answer: float, value: float, rel_tolerance: float) -> bool:
    """True if `answer` is `value` within the relative tolerance (and a hair's breadth for rounding)."""
    return abs(answer - value) <= max(rel_tolerance * abs(value), 1e-9 * max(1.0, abs(value)))


@dataclass(frozen=True)
class ExplainedExercise(Exercise):
    """An Exercise that recognises likely wrong answers and says what each one probably counted; any other wrong
    answer is told whether it is too high or too low, never what the answer is."""

    mistakes: Callable[[], dict[float, str]] = dict

    def check(self, answer: float | str | None = None, show: bool = False) -> bool:
        try:  # "0.28", "442,560": read as Exercise.check reads them
            show, answer = read_show(show), read_answer(answer)
        except ValueError as error:
            print(error)
            return False
        expected = self.expected()
        if answer is None or close(answer, expected, self.rel_tolerance):
            return super().check(answer, show)
        print(self.not_quite(answer, expected))  # the wording of every other exercise: "off by N ... Did you ...?"
        if show:
            print(self.working())
        return False
