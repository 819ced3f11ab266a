"""Stopping a training run cleanly: Ctrl-C (or a notebook's stop button) as a request that `fit` honours after the
current step, and the one line that says where training stopped and how to continue."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

_BEFORE_START: list = []  # the Ctrl-C handler that `quiet_start` replaced


def quiet_start() -> None:
    """While `python -m gooknet_helpers.train` imports PyTorch (some seconds), let Ctrl-C end the process at once with
    one line and status 130, instead of a traceback through the import machinery. Only where Ctrl-C would raise
    KeyboardInterrupt (not where it is ignored), in the main thread; `end_quiet_start` puts the handler back."""
    if threading.current_thread() is not threading.main_thread() or _BEFORE_START:
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        _BEFORE_START.append(signal.signal(signal.SIGINT, _stop_while_starting))


def _stop_while_starting(signum: int, frame: object) -> None:
    print("\nStopped by Ctrl-C while starting: nothing was trained or written.", file=sys.stderr, flush=True)
    os._exit(130)  # nothing to clean up yet; an exception here would print the importers' traceback


def end_quiet_start() -> None:
    """Ctrl-C as before `quiet_start` (the command line calls it once its imports are done)."""
    if _BEFORE_START and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _BEFORE_START.pop())


class StopRequest:
    """Ctrl-C (or a notebook's stop button) as a request: `fit` finishes the current step, then stops cleanly.

    While active, the first Ctrl-C sets `requested`; a second one raises KeyboardInterrupt as usual. The handler is
    installed only in the main thread, and only where Ctrl-C raises KeyboardInterrupt (a terminal, Jupyter), not
    where it is ignored. `clean=False` (several processes, which must stop at the same step) leaves Ctrl-C alone.
    """

    def __init__(self, clean: bool = True) -> None:
        self.clean, self.requested, self._previous = clean, False, None

    def __enter__(self) -> StopRequest:
        main = threading.current_thread() is threading.main_thread()
        if self.clean and main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._request)
        return self

    def _request(self, signum: int, frame: object) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, self._previous)  # a second Ctrl-C interrupts at once
        print("\nCtrl-C: stopping after this step (press it again to stop at once)", file=sys.stderr, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def stop_after_first_epoch(history: dict) -> None:
    """An `on_epoch` callback for `fit` that stops the run after its first epoch, as Ctrl-C between steps would: the
    epoch is complete, recorded in the history and, given a checkpoint path, saved."""
    raise KeyboardInterrupt


def stopped_message(history: dict, step: int, total: int, checkpoint: str | Path | None, saved_epoch: int) -> str:
    """The one line `fit` prints when stopped: where, what the model and the checkpoint hold, how to continue."""
    where = f"Training stopped at step {step:,} of {total:,}"
    if history["epoch"]:
        where += f" (epoch {history['epoch'][-1]}, test accuracy {history['test_acc'][-1]:.2%})"
    if checkpoint is None:
        return f"{where}; the model keeps that step's weights. No checkpoint was set, so the run cannot be continued."
    if saved_epoch == 0:
        return f"{where}, before the first epoch ended: {checkpoint} was not written, so a new run starts from scratch."
    return (
        f"{where}; the model keeps that step's weights. {checkpoint} holds epoch {saved_epoch}: to continue, run "
        "again with resume=True (--resume on the command line)."
    )
