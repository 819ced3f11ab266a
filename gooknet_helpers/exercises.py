"""Self-check helpers for the notebooks' exercises.

A checker says whether an answer is right; it shows the working (and so the answer)
only when asked with `show=True`, so a classroom can try first. Expected values are
computed from the package, never typed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    """A numeric question whose expected answer and working are computed on demand."""

    question: str
    expected: Callable[[], float]
    working: Callable[[], str]
    rel_tolerance: float = 0.0

    def check(self, answer: float | None = None, show: bool = False) -> bool:
        """Print whether `answer` is right; with show=True also print the working."""
        expected = self.expected()
        correct = answer is not None and abs(answer - expected) <= self.rel_tolerance * abs(expected)
        if answer is None:
            print(f"Q: {self.question}\nType your number, e.g. check(12345).")
        elif correct:
            print(f"Correct: {answer:,}.")
        else:
            print(f"Not quite: {answer:,} is not it. Try again, or call with show=True for the working.")
        if show:
            print(self.working())
        return correct


# ---- Notebook 01: naive Inception module ----

# ---- Notebook 02: 1x1 bottlenecks ----

# ---- Notebook 03: the full network ----

# ---- Notebook 04: training ----
