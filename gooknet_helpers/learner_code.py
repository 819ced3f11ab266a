"""Running a learner's code safely: the learner's module may raise anything, return anything, or never return.

`watched(cls)` checks, as they come, what the parts of Figure 2 and Section 5 return (one tensor, in the input's
dtype); `time_limit` stops a module that never returns; `learner_frame` says where in the learner's own code an
error was raised. `module_checks.check_module` turns each into one message.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from .module_parts import PARTS, describe

TIMEOUT_S = 20.0  # the checks take well under a second on the small inputs; a module still running is stuck


class Stopped(BaseException):
    """Raised inside the learner's code to end a check (a BaseException, so that `except Exception` blocks, the
    learner's or the checks', do not swallow it); `check_module` turns it into an AssertionError."""


class OutOfTime(Stopped):
    pass


def learner_frame(error: BaseException) -> str:
    """Where in the learner's own code (not PyTorch's, not this package's) `error` was raised: " in forward, line 7
    (`return x.double()`)", or "" when it was not raised there."""
    package = str(Path(__file__).parent)
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if not f.filename.startswith(package) and f"{os.sep}torch{os.sep}" not in f.filename
    ]
    if not frames:
        return ""
    frame = frames[-1]
    code = f" (`{frame.line.strip()}`)" if frame.line else ""
    return f" in {frame.name}, line {frame.lineno}{code}"


def watched(cls: type[nn.Module]) -> tuple[type[nn.Module], list[nn.Module]]:
    """A subclass of the learner's class (with its name) whose instances check what the parts of Figure 2 and
    Section 5 return: one tensor, in the input's dtype. A mistake raises Stopped naming the part. The learner's class
    itself is not changed; the list collects the instances made."""
    made: list[nn.Module] = []

    def check_output(name: str):
        def hook(module: nn.Module, args: tuple, out: object) -> None:
            part = describe(name) if name else f"your {cls.__name__}'s forward"
            if not isinstance(out, torch.Tensor):
                kind = type(out).__name__
                article = "an" if kind[0].lower() in "aeiou" else "a"
                what = "None (is a `return` missing?)" if out is None else f"{article} {kind}"
                raise Stopped(f"{part} returns {what}, not a tensor: it must return one (N, C, H, W) tensor.")
            given = args[0] if args and isinstance(args[0], torch.Tensor) else None
            if given is not None and given.is_floating_point() and out.dtype != given.dtype:
                raise Stopped(
                    f"{part} returns {str(out.dtype).removeprefix('torch.')} values for a "
                    f"{str(given.dtype).removeprefix('torch.')} input: keep the input's dtype (no .double() or "
                    "tensors of another dtype made inside it)."
                )

        return hook

    class Watched(cls):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            for name, module in self.named_modules():
                if name == "" or name in PARTS:
                    module.register_forward_hook(check_output(name))
            made.append(self)

    Watched.__name__, Watched.__qualname__, Watched.__module__ = cls.__name__, cls.__qualname__, cls.__module__
    return Watched, made


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise OutOfTime inside the block's code after `seconds` (a SIGALRM timer; in the main thread only, where
    Python runs signal handlers: a notebook's cells run there). Elsewhere the block runs without a limit."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def out_of_time(signum: int, frame: object) -> None:
        raise OutOfTime()

    previous = signal.signal(signal.SIGALRM, out_of_time)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
