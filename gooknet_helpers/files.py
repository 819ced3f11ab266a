"""Writing results safely: every result file is written whole or not at all, JSON never holds a bare NaN, and one
training run at a time writes into an output folder.

- `atomic_write(path, write)`: `write(file)` fills a temporary file with a unique name (`tempfile.mkstemp`) in the
  target's folder, which is flushed to disk and renamed over `path`. A crash, Ctrl-C or full disk part-way leaves
  the previous file as it was; two writers never share a temporary file.
- `write_json(obj, path)`: the same for JSON; NaN and infinities become null (JSON has no NaN).
- `RunLock(path)`: an exclusive `flock` on a lock file beside `path`, held while a run writes it. The operating
  system releases it when the process ends, however it ends, so a crash never leaves it stuck.

Failures to write (a full disk, a read-only folder) raise `WriteError`, one line saying what was kept.
"""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .runtime import GooknetError


class WriteError(GooknetError, OSError):
    """A result file could not be written (no space left, no permission); its previous version is kept (still an
    OSError, for code that catches those)."""


class OutputInUseError(GooknetError):
    """Another training run holds the lock on this output."""


def _reason(error: OSError) -> str:
    """What went wrong, in the system's words ("No space left on device")."""
    return error.strerror or str(error) or type(error).__name__


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None], hint: str = "") -> Path:
    """Call `write(file)` on a new temporary file in `path`'s folder, flush it to disk, and rename it over `path`.

    The temporary file has a unique name, so concurrent writers never meet; on any failure it is removed and `path`
    keeps its previous contents. An OSError while writing (a full disk, say) becomes WriteError, one line that ends
    with `hint` (what to do next). Returns `path`.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
        tmp = None
        _sync_folder(path.parent)
    except OSError as error:
        if isinstance(error, GooknetError):
            raise
        kept = "its previous version is kept" if path.exists() else "nothing was written"
        raise WriteError(f"Could not write {path}: {_reason(error)}; {kept}." + (f" {hint}" if hint else "")) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return path


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entry for a renamed file to disk (where the platform allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def json_safe(obj: Any) -> Any:
    """`obj` with every float that is NaN or infinite replaced by None (JSON's null), in dicts, lists and tuples."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: json_safe(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(value) for value in obj]
    return obj


def write_json(obj: Any, path: str | Path, indent: int | None = 1, hint: str = "") -> Path:
    """`obj` as JSON in `path`, written atomically (`atomic_write`), with NaN and infinities as null: the file is
    always valid JSON (written with allow_nan=False) and never half written. Returns `path`."""
    text = json.dumps(json_safe(obj), indent=indent, allow_nan=False) + "\n"
    return atomic_write(path, lambda file: file.write(text.encode("utf-8")), hint)


class RunLock:
    """An exclusive lock on the output `path` of a run (a file, say checkpoint.pt, or a folder): a `flock` on the
    lock file `.NAME.lock` beside it, taken on entering, released on leaving or when the process ends.

    A second process that asks for the same lock gets OutputInUseError at once, naming the process that holds it.
    Within one process the lock is re-entrant (the command line holds it for the run; `fit` inside asks again).
    Where the file system cannot lock (some network file systems), the run goes on unlocked.
    """

    _held: dict[str, list] = {}  # lock file -> [fd, count], for this process

    def __init__(self, path: str | Path, what: str = "") -> None:
        path = Path(path)
        self.lock_file = str(path.parent.resolve() / f".{path.name}.lock")
        self.path, self.what = path, what

    def __enter__(self) -> RunLock:
        held = RunLock._held.get(self.lock_file)
        if held is not None:
            held[1] += 1
            return self
        try:
            import fcntl
        except ImportError:  # Windows: no flock; go on unlocked
            RunLock._held[self.lock_file] = [None, 1]
            return self
        try:
            Path(self.lock_file).parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise WriteError(
                f"Cannot write into {Path(self.lock_file).parent}: {_reason(error)}. Choose a folder you can write to."
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)  # no locking here: go on without
                RunLock._held[self.lock_file] = [None, 1]
                return self
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            by = f" (process {holder})" if holder.isdigit() else ""
            raise OutputInUseError(
                f"{self.path} is in use by another training run{by}: wait for it to finish, or choose another "
                f"{self.what or 'output folder (--out) or checkpoint path'}."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        RunLock._held[self.lock_file] = [fd, 1]
        return self

    def __exit__(self, *exc: object) -> None:
        held = RunLock._held.get(self.lock_file)
        if held is None:
            return
        held[1] -= 1
        if held[1] == 0:
            del RunLock._held[self.lock_file]
            if held[0] is not None:
                os.close(held[0])  # closing the file releases the flock


LFS_POINTER = b"version https://git-lfs"


def _first_line(error: BaseException) -> str:
    """The first line of an error's text, unless it gives torch's advice to load with weights_only=False (risky for a
    file of unknown origin: it lets the file run code), in which case nothing."""
    said = str(error).strip().split("\n")[0].split(". ")[0][:200]
    risky = ("weights_only", "weights only", "trust the source")
    return "" if any(word in said.lower() for word in risky) else said


def safe_torch_load(path: str | Path, what: str, fix: str, error: type[GooknetError]) -> Any:
    """`torch.load(path, weights_only=True)` on the CPU, or `error` in one line saying what is wrong with the file
    (missing, a Git LFS pointer, truncated or damaged, holding objects other than tensors and plain data) and
    `fix`, what to do. The text never advises weights_only=False: that would let a file of unknown origin run code.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.exists():
        raise error(f"There is no {what} at {path}.")
    if path.is_dir():
        raise error(f"{path} is a folder, not a {what}.")
    try:
        with open(path, "rb") as file:
            head = file.read(len(LFS_POINTER))
    except OSError as failure:
        raise error(f"Cannot read {path}: {_reason(failure)}.") from None
    if head == LFS_POINTER:
        raise error(
            f"{path} is a Git LFS pointer (a small text file that stands for the {what}), not the {what} itself: "
            "install Git LFS and run `git lfs pull` in the repository, or clone it again with Git LFS installed."
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as failure:
        if "Unsupported global" in str(failure):  # a class or function the safe unpickler does not allow
            raise error(
                f"{path} holds Python objects other than tensors and plain data, so it is not loaded (loading them "
                f"could run code). {fix}"
            ) from None
        raise error(f"{path} is not a readable {what}; it may be truncated or damaged. {fix}") from None
    except Exception as failure:  # truncated or corrupt files fail in the zip reader, or with EOFError
        said = _first_line(failure)
        said = f" ({type(failure).__name__}: {said})" if said else ""
        raise error(f"{path} is not a readable {what}{said}; it may be truncated or damaged. {fix}") from None


class OutputFolderError(GooknetError):
    """An output folder that cannot hold a run's files."""


SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")  # the kernel's views, not places for files


def check_output_folder(folder: str | Path, option: str = "--out") -> Path:
    """`folder` made if needed and checked writable (a file is made in it and removed), or OutputFolderError in one
    line: a file of that name, a folder that cannot be made or written, or one inside /proc, /sys or /dev. The
    command line calls it before loading any data, so a bad --out never costs a training run."""
    path = Path(folder).expanduser()
    full = path.resolve()
    system = next((root for root in SYSTEM_FOLDERS if full.is_relative_to(root)), None)
    if system is not None:
        raise OutputFolderError(
            f"{option} {folder} is inside {system}, which the kernel provides, not a place for files: choose a "
            f"folder of your own, e.g. {option} runs/train."
        )
    if path.exists() and not path.is_dir():
        raise OutputFolderError(f"{option} {folder} is a file, not a folder: choose a folder for the run's files.")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-check.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise OutputFolderError(
            f"{option} {folder} cannot hold the run's files: {_reason(error)}. Choose a folder you can write to."
        ) from None
    return path
