"""How fast training runs: data seconds per epoch (`DataTimer`, used by `fit`) and images/second of one training
step (`step_speed`, used by the benchmarks)."""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn

from .config import amp_dtype
from .runtime import synchronize


class DataTimer:
    """Seconds spent producing batches in an epoch, without making the CPU wait for a GPU at every step.

    CUDA: events recorded around each data step, read once at the epoch's end. CPU: the wall clock (the work is
    done when a call returns). MPS: the wall clock, synchronising around each data step.
    """

    def __init__(self, device: torch.device, enabled: bool = True) -> None:
        self.device, self.enabled = device, enabled
        self.events: list[tuple[torch.cuda.Event, torch.cuda.Event]] = []
        self.wall_s = 0.0

    def start(self) -> None:
        if self.enabled and self.device.type == "cuda":
            self._start = torch.cuda.Event(enable_timing=True)
            self._start.record()
        elif self.enabled:
            synchronize(self.device)
            self._t0 = time.perf_counter()

    def stop(self) -> None:
        if self.enabled and self.device.type == "cuda":
            end = torch.cuda.Event(enable_timing=True)
            end.record()
            self.events.append((self._start, end))
        elif self.enabled:
            synchronize(self.device)
            self.wall_s += time.perf_counter() - self._t0

    def seconds(self) -> float | None:
        """The data seconds so far (None when disabled); on CUDA, call after `synchronize`."""
        if not self.enabled:
            return None
        return self.wall_s + sum(a.elapsed_time(b) for a, b in self.events) / 1000


def step_speed(
    model: nn.Module,
    device: torch.device,
    input_size: tuple[int, int, int] = (3, 32, 32),
    batch_size: int = 256,
    amp: str = "auto",
    steps: int = 10,
    warmup: int = 3,
) -> tuple[float, int | None]:
    """Training images/second (forward + backward + SGD step) on random input, and peak GPU memory in bytes.

    Train mode, channels_last as in `fit`; a tuple output (aux heads, ours or torchvision's) adds 0.3 x each
    auxiliary loss, so the same work is timed for any GoogLeNet.
    """
    model = model.to(device, memory_format=torch.channels_last).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    dtype = amp_dtype(device, amp)
    x = torch.randn(batch_size, *input_size, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch_size,), device=device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for i in range(warmup + steps):
        if i == warmup:
            synchronize(device)
            t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            out = model(x)
            logits, *aux = out if isinstance(out, tuple) else (out,)
            loss = F.cross_entropy(logits, y) + 0.3 * sum(F.cross_entropy(a, y) for a in aux)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    synchronize(device)
    seconds = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    return batch_size * steps / seconds, peak
