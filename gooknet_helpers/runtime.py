"""Where the notebooks run: device choice and sync, processes, seeds, the smoke switch, Colab detection, errors."""

from __future__ import annotations

import os
import platform
import random
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist


class GooknetError(RuntimeError):
    """An expected failure (no data, a bad checkpoint, a batch that does not fit) whose message says what to do.

    The command line prints the message alone and exits with status 2; Jupyter shows the message without a
    traceback (IPython calls `_render_traceback_` where an exception defines it).
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


def smoke() -> bool:
    """True when the test configuration asks heavy cells to scale down (GOOKNET_SMOKE=1)."""
    return os.environ.get("GOOKNET_SMOKE", "") not in ("", "0")


def live_training(device: torch.device) -> bool:
    """True where notebook 04 trains the full recipe and re-runs its experiments live: on a CUDA GPU, outside smoke
    mode. GOOKNET_FORCE_LIVE=1 takes that branch on any device (the tests set it, together with smoke mode, whose
    tiny budgets then apply), so that the cells only a GPU would run are run everywhere."""
    if os.environ.get("GOOKNET_FORCE_LIVE", "") not in ("", "0"):
        return True
    return device.type == "cuda" and not smoke()


def in_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules


class DeviceError(GooknetError, ValueError):
    """A device that is not one, or that this machine does not have."""


DEVICES = "'cuda' (or 'cuda:0', 'cuda:1', ...), 'mps' or 'cpu'"


def check_device(device: str | torch.device) -> torch.device:
    """`device` as a torch.device, or DeviceError (one line) if it is not a device or this machine lacks it."""
    where = "--device on the command line"
    if not isinstance(device, (str, torch.device)):
        raise DeviceError(f"device must be a string such as 'cuda' or 'cpu' ({where}), got {device!r}.")
    try:
        device = torch.device(device)
    except (RuntimeError, ValueError):
        raise DeviceError(f"device {device!r} is not a device ({where}): use {DEVICES}.") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise DeviceError(
                f"device {str(device)!r} asks for a CUDA GPU, but this PyTorch sees none (torch.cuda.is_available() is "
                f"False): use 'cpu', or leave the device out to take the best one available ({where})."
            )
        if device.index is not None and device.index >= count:
            raise DeviceError(
                f"device {str(device)!r} asks for GPU {device.index}, but this machine has {count} (cuda:0 to "
                f"cuda:{count - 1}) ({where})."
            )
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError(f"device 'mps' (Apple's GPU) is not available here: use 'cpu' ({where}).")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"device {str(device)!r} is not one these notebooks run on ({where}): use {DEVICES}.")
    return device


def pick_device(preferred: str | torch.device | None = None) -> torch.device:
    """`preferred` if given (checked: DeviceError if this machine lacks it), else CUDA, then Apple's MPS, then the
    CPU."""
    if preferred:
        return check_device(preferred)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def module_device(module: torch.nn.Module) -> torch.device:
    """The device of a module's parameters (the CPU for a module without any)."""
    param = next(module.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch (all devices) for reproducible runs."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that wall-clock timings are true (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def world() -> tuple[int, int]:
    """This process's rank and the number of processes: (0, 1) unless torchrun started a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def describe_device(device: torch.device) -> str:
    """A one-line description of the device, for notebook headers and benchmark reports."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    if device.type == "cpu":
        threads = torch.get_num_threads()
        return f"cpu: {threads} thread{'s' if threads > 1 else ''}"
    return device.type


def cpu_model() -> str | None:
    """The CPU's model name and count on Linux ("2 x AMD EPYC ..."), else what `platform` knows, for the record."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return platform.processor() or None
    lines = cpuinfo.read_text().splitlines()
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return f"{len(names)} x {names[0]}" if names else None


def runtime_report(device: torch.device | None = None) -> torch.device:
    """Print versions and the device the notebook will use; in Colab without a GPU, say how to get one."""
    device = device or pick_device()
    print(f"torch {torch.__version__} | device {describe_device(device)} | smoke mode {'on' if smoke() else 'off'}")
    if in_colab() and device.type != "cuda":
        print("No GPU in this Colab session: Runtime > Change runtime type > T4 GPU, then run all cells again.")
    return device
