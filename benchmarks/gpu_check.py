"""One GPU check that can fail: the training stack on a CUDA GPU, item by item, within a time budget.

    make gpu-check                                        # a CUDA GPU and the whole CIFAR-10 needed
    python benchmarks/gpu_check.py --data ../shared/data/cifar10-jpeg --minutes 10
    python benchmarks/gpu_check.py --cpu-smoke            # anywhere: every item at tiny sizes on the CPU

It always trains on the whole CIFAR-10 (50,000 train / 10,000 test images) and refuses a subset. Each item prints
PASS, FAIL, SKIP (does not apply here) or INFO (measured, no threshold), with its numbers (the items and what they
check: `gpu_table.ITEMS`). The exit status is 0 when no item failed, 1 when one did, 2 when the check cannot run
(no CUDA GPU, or not the whole CIFAR-10): then one line says why.

The items run in order; the real-data run comes last and gets what is left of `--minutes` (default 10): the whole
default recipe (24 epochs) when it fits, and then its true time to 93%; otherwise the recipe compressed into the
epochs that fit, with the full recipe's time extrapolated from its epoch time. Results go to
benchmarks/results/gpu_check.json (the device named in it); `make readme` renders the README's GPU table from it,
and this script refreshes that table when it writes the committed file.

`--cpu-smoke` runs the same items, with the same PASS/FAIL logic, at tiny sizes on the CPU and synthetic images
(the tests run it): fp16 autocast with an enabled gradient scaler and fused SGD as on a T4, the syncs item with a
read-back guard in place of CUDA's sync debug mode, and timing thresholds reported as INFO. It writes a JSON only
with --out.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import gpu_table  # benchmarks/gpu_table.py, beside this script
import speed  # benchmarks/speed.py
import torch
from torch.overrides import TorchFunctionMode

from gooknet_helpers.config import TrainConfig, amp_dtype, build_model, make_optimizer
from gooknet_helpers.data import FULL_CIFAR10, ImageData, batches, load_data, synthetic_data
from gooknet_helpers.runtime import GooknetError, describe_device, synchronize
from gooknet_helpers.stopping import stop_after_first_epoch
from gooknet_helpers.training import fit, train_step

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / gpu_table.RESULTS
TARGET = 0.93  # test accuracy of the GPU goal
GOAL_S = {"T4": 600, "H100": 180}  # the goal's seconds to TARGET, on the GPUs it names (others: reported only)
SHORT_RUN_FLOOR = 0.6  # test accuracy a compressed run of >= 2 epochs must reach (a broken run stays near 10%)
MIN_FIT_OVER_STEP = 0.85  # fit's images/s over the bare step's: the loop may cost at most 15%
MIN_OURS_OVER_TORCHVISION = 0.8  # our GoogLeNet's training speed over torchvision's, same architecture
MAX_MEMORY_SHARE = 0.8  # the recipe's peak memory over the GPU's total
RESUME_SLACK = 3.0  # a resumed run may differ from a straight one by this many times two straight runs' gap
RESERVE_S = 20  # of the budget, kept for writing the results
COMPILE_NEEDS_S = 360  # budget left that the torch.compile item needs (compiling took 220 s on a 2-core CPU), and
# then still a few epochs for the real-data run


class CannotRun(Exception):
    """The check cannot run here (no CUDA GPU, not the whole CIFAR-10): one line, exit status 2."""


@dataclass
class Item:
    name: str
    verdict: str  # PASS, FAIL, SKIP (does not apply here), INFO (measured, no threshold)
    summary: str  # one line of numbers, shown in the printout and the README table
    values: dict = field(default_factory=dict)


@dataclass
class Sizes:
    """How big each item's runs are: the GPU's, or tiny ones for --cpu-smoke."""

    sync: dict  # TrainConfig fields of the syncs item's runs
    sync_train: int  # training images of those runs (steps per epoch = sync_train / batch)
    scaler: dict  # TrainConfig fields of the scaler item's runs
    scaler_steps: int
    forced_scale: float  # the scaler item's initial scale: far too large, so the first steps overflow
    resume: dict
    resume_train: int
    speed_argv: list[str]  # benchmarks/speed.py options
    host_steps: int  # single steps timed for host vs wall
    run: dict  # the real-data run's TrainConfig fields (the default recipe on a GPU)


GPU_SIZES = Sizes(
    sync=dict(width=1.0, batch_size=512, eval_batch_size=500),
    sync_train=3 * 512,
    scaler=dict(width=0.25, batch_size=64, lr=0.05, track_grads=()),
    scaler_steps=24,
    forced_scale=2.0**24,
    resume=dict(width=0.25, batch_size=256, aux_logits=True, epochs=2, track_grads=()),
    resume_train=8 * 256,
    speed_argv=["--steps", "10", "--repeats", "2"],
    host_steps=10,
    run={},
)
CPU_SMOKE_SIZES = Sizes(
    sync=dict(width=0.125, batch_size=8, eval_batch_size=50),
    sync_train=3 * 8,
    scaler=dict(width=0.125, batch_size=16, lr=0.05, track_grads=()),
    scaler_steps=8,
    forced_scale=2.0**20,
    resume=dict(width=0.125, batch_size=10, aux_logits=True, epochs=2, track_grads=()),
    resume_train=3 * 10,
    speed_argv=["--steps", "1", "--repeats", "1", "--size", "32", "--batch-size", "2", "--images", "200"]
    + ["--width", "0.125", "--cifar-batch-size", "8"],
    host_steps=2,
    run=dict(width=0.125, batch_size=20, lr=0.2, epochs=2),
)


@dataclass
class Check:
    """Where the check runs and what it has: the device, the data, the sizes, the deadline."""

    device: torch.device
    data: ImageData
    sizes: Sizes
    smoke: bool
    deadline: float  # time.perf_counter() by which everything must be done
    only: set[str] | None = None
    items: list[Item] = field(default_factory=list)
    epoch_s: float | None = None  # a CIFAR-10 epoch of the recipe, as the speed items measured it

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"

    def timed(self, verdict: str) -> str:
        """A timing threshold's verdict: as measured on a GPU, INFO in CPU smoke mode (a busy CPU is no gauge)."""
        return "INFO" if self.smoke else verdict


# ---- what the items share ----


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def max_abs_difference(a: dict, b: dict) -> float:
    """The largest absolute difference between two state dicts' floating-point tensors."""
    pairs = zip(a.values(), b.values(), strict=True)
    return max((x.float().cpu() - y.float().cpu()).abs().max().item() for x, y in pairs)


def all_finite(tensors: Iterator[torch.Tensor]) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in tensors)


@contextlib.contextmanager
def replaced(function: Callable, name: str, new: object) -> Iterator[None]:
    """Replace the global `name` in the module that defines `function` (where `fit` looks its helpers up)."""
    namespace = function.__globals__
    old = namespace[name]
    namespace[name] = new
    try:
        yield
    finally:
        namespace[name] = old


class ReadBackGuard(TorchFunctionMode):
    """On the CPU, what `torch.cuda.set_sync_debug_mode("error")` is on a GPU: every read of a tensor's value into
    Python (`.item()`, `.tolist()`, `bool(t)`, ...) raises. On a GPU each of those makes the CPU wait for it."""

    READS = frozenset({"item", "tolist", "__bool__", "__float__", "__int__", "__index__", "numpy", "nonzero"})

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in self.READS:
            raise RuntimeError(f"a read-back ({func.__name__}) inside a training step")
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def strict(device: torch.device) -> Iterator[None]:
    """Any host-device sync raises: CUDA's sync debug mode on a GPU, the read-back guard on the CPU."""
    if device.type == "cuda":
        torch.cuda.set_sync_debug_mode("error")
        try:
            yield
        finally:
            torch.cuda.set_sync_debug_mode("default")
    else:
        with ReadBackGuard():
            yield


def as_on_cuda(device: torch.device) -> contextlib.AbstractContextManager:
    """On the CPU, `fit` with fused SGD as on CUDA (its default there is foreach); nothing to change on a GPU."""
    if device.type == "cuda":
        return contextlib.nullcontext()
    return replaced(fit, "make_optimizer", functools.partial(make_optimizer, fused=True))


def first_scales_run(
    check: Check, config: TrainConfig, init_scale: float, fused: bool, steps: int
) -> tuple[list[float], dict, dict, dict]:
    """`steps` training steps (the project's `train_step`) with fp16 autocast and an enabled gradient scaler;
    returns the scale after each step, the parameters after the first step, the state dict at the end, and the
    momentum buffers."""
    device = check.device
    model = build_model(config).to(device, memory_format=torch.channels_last)
    optimizer = make_optimizer(model, config, fused=fused)
    scaler = torch.amp.GradScaler(device.type, init_scale=init_scale)
    loader = batches(
        check.data.train_images,
        check.data.train_labels,
        config.batch_size,
        train=True,
        generator=torch.Generator(device).manual_seed(0),
    )
    scales, after_first = [], {}
    for i in range(steps):
        x, y = next(loader)
        train_step(model, optimizer, scaler, x, y, config.lr, config, [])
        scales.append(scaler.get_scale())
        if i == 0:  # the parameters (batch norm's running statistics move even in a skipped step)
            after_first = {k: v.detach().clone() for k, v in model.named_parameters()}
    buffers = {str(i): s["momentum_buffer"] for i, s in enumerate(optimizer.state.values()) if "momentum_buffer" in s}
    return scales, after_first, model.state_dict(), buffers


# ---- the items ----


def check_full_cifar(data: ImageData) -> None:
    """CannotRun unless `data` is the whole CIFAR-10: the GPU goals are defined on it, and 93% is out of a subset's
    reach."""
    counts = len(data.train_labels), len(data.test_labels)
    if data.source != "CIFAR-10" or counts != FULL_CIFAR10:
        raise CannotRun(
            f"the GPU check needs the whole CIFAR-10 ({FULL_CIFAR10[0]:,} train / {FULL_CIFAR10[1]:,} test images), "
            f"but the data has {counts[0]:,} / {counts[1]:,} ({data.source} from {data.location}): pass --data with "
            "the full set, or unset GOOKNET_DATA_DIR where it names a subset"
        )


def item_data(check: Check) -> Item:
    if check.smoke:
        return Item("data", "SKIP", f"CPU smoke mode: {check.data.describe()}")
    check_full_cifar(check.data)  # already passed in main: the check does not start on a subset
    return Item("data", "PASS", check.data.describe(), dict(train=len(check.data.train_labels)))


def item_dtype(check: Check) -> Item:
    device = check.device
    if check.cuda:
        capability = torch.cuda.get_device_capability(device)
        expected, fused = (torch.bfloat16 if capability[0] >= 8 else torch.float16), True
        where = f"sm_{capability[0]}{capability[1]}"
    else:
        expected, fused, where = None, False, "the CPU"
    config = TrainConfig(width=0.125)
    got = amp_dtype(device, config.amp)
    got_fused = bool(make_optimizer(build_model(config).to(device), config).defaults["fused"])
    scaler = got == torch.float16  # fit enables its gradient scaler exactly for fp16
    ok = got == expected and got_fused == fused
    summary = f"{got} autocast{' + gradient scaler' if scaler else ''}, " if got else "float32 (no autocast), "
    summary += f"{'fused' if got_fused else 'foreach'} SGD on {where}"
    if not ok:
        summary += f" (expected {expected or 'float32'}, {'fused' if fused else 'foreach'})"
    return Item("dtype and fused SGD", verdict(ok), summary, dict(dtype=str(got), fused=got_fused, scaler=scaler))


def strict_after_first(device: torch.device, train_epoch: Callable) -> tuple[Callable, list[int]]:
    """`train_epoch` that runs its first call (the warm-up epoch) as usual and every later one `strict`, and the
    list of the steps each strict epoch did."""
    strict_steps, calls = [], []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            return train_epoch(*args, **kwargs)
        with strict(device):
            run = train_epoch(*args, **kwargs)
        strict_steps.append(run.steps)
        return run

    return wrapper, strict_steps


def item_syncs(check: Check) -> Item:
    """fit's training epochs after the first run with every host-device sync an error (fp16 forced and bf16, aux
    heads on and off): the first epoch warms up (cuDNN autotuning, allocator growth, the cached CIFAR mean/std)."""
    device, sizes = check.device, check.sizes
    amps = ["fp16"]
    if not check.cuda or torch.cuda.is_bf16_supported(including_emulation=False):
        amps.append("bf16")
    batch = sizes.sync["batch_size"]
    data = check.data.subset(train=sizes.sync_train, test=sizes.sync["eval_batch_size"])
    spe = len(data.train_labels) // batch
    results, failures = {}, []
    for amp in amps:
        for aux in (False, True):
            name = f"{amp}, aux {'on' if aux else 'off'}"
            config = TrainConfig(epochs=3, amp=amp, aux_logits=aux, **sizes.sync)
            train_epoch, strict_steps = strict_after_first(device, fit.__globals__["train_epoch"])
            try:
                with replaced(fit, "train_epoch", train_epoch), as_on_cuda(device):
                    fit(build_model(config).to(device), data, config, progress=False)
                results[name] = sum(strict_steps)
                if sum(strict_steps) != 2 * spe:
                    failures.append(f"{name}: {sum(strict_steps)} strict steps, not {2 * spe}")
            except RuntimeError as error:  # a sync raised inside a strict epoch
                results[name] = None
                failures.append(f"{name}: {str(error).splitlines()[0][:160]}")
    how = "CUDA sync debug mode" if check.cuda else "read-back guard"
    if failures:
        return Item("syncs per step", "FAIL", "; ".join(failures), dict(strict_steps=results))
    summary = f"0 syncs in {sum(results.values())} strict steps of {len(results)} runs ({'; '.join(results)}), "
    summary += f"by the {how}, after a warm-up epoch"
    return Item("syncs per step", "PASS", summary, dict(strict_steps=results))


def item_scaler(check: Check) -> Item:
    """fp16 with the gradient scaler and fused SGD (a T4's path, forced on any GPU), first steps overflowing on
    purpose: the skipped steps leave the weights as they were, everything stays finite, and the run matches the
    same run with foreach SGD."""
    sizes = check.sizes
    config = TrainConfig(amp="fp16", **sizes.scaler)
    initial = {k: v.detach().clone() for k, v in build_model(config).named_parameters()}
    forced = sizes.forced_scale
    scales, first, fused_end, buffers = first_scales_run(check, config, forced, True, sizes.scaler_steps)
    foreach_scales, _, foreach_end, _ = first_scales_run(check, config, forced, False, sizes.scaler_steps)
    default_scales, _, default_end, _ = first_scales_run(check, config, 2.0**16, True, min(8, sizes.scaler_steps))
    # The first steps overflow and are skipped, each halving the scale, until one goes through.
    halved = [b < a for a, b in zip([forced, *scales], scales, strict=False)]
    skipped = halved.index(False) if False in halved else len(halved)
    problems = []
    if scales[0] != forced / 2:
        problems.append(f"the first step was not skipped (scale {scales[0]:g})")
    elif max_abs_difference(initial, first) != 0:
        problems.append("a skipped first step changed the weights")
    if skipped == len(scales):
        problems.append("every step overflowed")
    if not all_finite(fused_end.values()) or not all_finite(buffers.values()):
        problems.append("fused SGD left non-finite weights or momentum")
    if not all_finite(default_end.values()):
        problems.append("non-finite weights at the default initial scale 65536")
    if scales[: skipped + 1] != foreach_scales[: skipped + 1]:
        problems.append(f"scales differ from foreach SGD's ({foreach_scales[: skipped + 1]})")
    gap = max_abs_difference(fused_end, foreach_end) if not problems else math.nan
    if not problems and not gap <= 1e-3 * max(v.float().abs().max().item() for v in foreach_end.values()):
        problems.append(f"fused and foreach SGD differ by {gap:.2g}")
    values = dict(forced_scales=scales, skipped=skipped, default_scales=default_scales, fused_vs_foreach=gap)
    if problems:
        return Item("gradient scaler", "FAIL", "; ".join(problems), values)
    summary = (
        f"initial scale 2^{math.log2(forced):.0f}: {skipped} of {len(scales)} steps skipped, weights finite, "
        f"fused = foreach SGD (max gap {gap:.1e}); scales from 65536: {', '.join(f'{s:g}' for s in default_scales)}"
    )
    return Item("gradient scaler", "PASS", summary, values)


def host_and_wall(check: Check, config: TrainConfig, data: ImageData) -> tuple[float, float]:
    """Seconds per training step: the host's time to issue it, and its wall time (issued on an idle GPU, waited
    for). Nearly equal means the GPU waits for Python: launch-bound."""
    device = check.device
    model = build_model(config).to(device, memory_format=torch.channels_last)
    optimizer = make_optimizer(model, config)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype(device, config.amp) == torch.float16)
    loader = batches(data.train_images, data.train_labels, config.batch_size, train=True)
    hosts, walls = [], []
    for i in range(3 + check.sizes.host_steps):  # 3 warm-up steps
        synchronize(device)
        start = time.perf_counter()
        train_step(model, optimizer, scaler, *next(loader), config.lr, config, [])
        issued = time.perf_counter()
        synchronize(device)
        if i >= 3:
            hosts.append(issued - start)
            walls.append(time.perf_counter() - start)
    return statistics.median(hosts), statistics.median(walls)


def items_speed(check: Check) -> list[Item]:
    """benchmarks/speed.py's measurements (fit, the bare step, ours and torchvision's), and host vs wall."""
    device = check.device
    results = speed.measure_all(speed.parse_args(check.sizes.speed_argv), device)
    rows = results["rows"]
    recipe, step = rows["recipe"], rows["step"]
    config = TrainConfig(**{**recipe["config"], "track_grads": tuple(recipe["config"]["track_grads"])})
    images = (3 + check.sizes.host_steps) * config.batch_size
    host_s, wall_s = host_and_wall(check, config, speed.random_cifar(device, images, 10))
    bound = ("launch-bound" if host_s > 0.9 * wall_s else "GPU-bound") if check.cuda else "on the CPU, host = wall"
    items = [
        Item(
            "throughput",
            "INFO",
            f"`fit` {recipe['images_per_s']:,.0f} images/s (width {config.width:g}, batch {config.batch_size}, "
            f"{results['precision']}); per step host {1e3 * host_s:.1f} ms, wall {1e3 * wall_s:.1f} ms: {bound}",
            dict(images_per_s=recipe["images_per_s"], host_ms=1e3 * host_s, wall_ms=1e3 * wall_s, bound=bound),
        )
    ]
    peak = recipe["peak_memory_gb"]
    if check.cuda:
        total = torch.cuda.get_device_properties(device).total_memory / 1e9
        items.append(
            Item(
                "peak memory",
                verdict(peak < MAX_MEMORY_SHARE * total),
                f"{peak:.2f} GB of {total:.1f} GB (at most {MAX_MEMORY_SHARE:.0%})",
                dict(peak_gb=peak, total_gb=total),
            )
        )
    else:
        items.append(Item("peak memory", "SKIP", "no CUDA memory statistics on the CPU"))
    share = recipe["images_per_s"] / step["images_per_s"]
    items.append(
        Item(
            "fit overhead",
            check.timed(verdict(share >= MIN_FIT_OVER_STEP)),
            f"`fit` {recipe['images_per_s']:,.0f} / bare step {step['images_per_s']:,.0f} images/s = {share:.2f} "
            f"(at least {MIN_FIT_OVER_STEP}); batches take {recipe['data_fraction']:.1%} of fit's time",
            dict(fit_over_step=share, data_fraction=recipe["data_fraction"]),
        )
    )
    ours, tv = rows["ours"], rows["torchvision"]
    items.append(
        Item(
            "ours / torchvision",
            check.timed(verdict(results["ratio"] >= MIN_OURS_OVER_TORCHVISION)),
            f"{ours['images_per_s']:,.0f} / {tv['images_per_s']:,.0f} images/s = {results['ratio']:.2f} at "
            f"{ours['input']}, batch {ours['batch']} (at least {MIN_OURS_OVER_TORCHVISION})",
            dict(ratio=results["ratio"], ours=ours["images_per_s"], torchvision=tv["images_per_s"]),
        )
    )
    check.epoch_s = len(check.data.train_labels) / recipe["images_per_s"]  # for the real-data run's budget
    return items


def item_resume(check: Check) -> Item:
    """A run stopped after its first epoch and resumed from the checkpoint, against two straight runs: the resumed
    one may differ from a straight one by no more than two straight runs differ (times RESUME_SLACK); on the CPU the
    three are identical. On CUDA cuDNN's autotuned convolutions and the adaptive-pool backward are not
    deterministic, so two straight runs differ a little."""
    sizes = check.sizes
    data = check.data.subset(train=sizes.resume_train, test=min(500, len(check.data.test_labels)))
    config = TrainConfig(**sizes.resume)

    straight = []
    for _ in range(2):
        model = build_model(config)
        fit(model, data, config, progress=False)
        straight.append(model.state_dict())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "checkpoint.pt"
        with contextlib.redirect_stderr(io.StringIO()):  # fit's line saying where it stopped and how to continue
            fit(build_model(config), data, config, checkpoint=path, on_epoch=stop_after_first_epoch, progress=False)
        resumed = build_model(config)
        history = fit(resumed, data, config, checkpoint=path, resume=True, progress=False)
    gap, resume_gap = max_abs_difference(*straight), max_abs_difference(straight[0], resumed.state_dict())
    ok = history["epoch"] == [1, 2] and resume_gap <= RESUME_SLACK * gap + 1e-6
    summary = f"resumed vs straight {resume_gap:.2g}, straight vs straight {gap:.2g} (max abs weight difference"
    summary += ", bitwise)" if resume_gap == gap == 0 else f"; at most {RESUME_SLACK:g}x + 1e-6)"
    return Item("resume", verdict(ok), summary, dict(resume_gap=resume_gap, straight_gap=gap))


def item_ddp(check: Check) -> Item:
    gpus = torch.cuda.device_count() if check.cuda else 0
    if gpus < 2:
        return Item("DDP", "SKIP", f"{gpus or 'no'} CUDA GPU{'' if gpus == 1 else 's'}: DDP needs two or more")
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
        command += ["-m", "gooknet_helpers.train", "--synthetic", "--no-progress", "--out", folder]
        command += ["--width", "0.25", "--epochs", "2", "--batch-size", "128"]
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        metrics = Path(folder) / "metrics.json"
        epochs = json.loads(metrics.read_text())["history"]["epoch"] if metrics.exists() else None
    ok = result.returncode == 0 and epochs == [1, 2]
    summary = f"2 processes (NCCL), 2 epochs of synthetic images in {time.perf_counter() - start:.0f} s"
    if not ok:
        summary += f": exit {result.returncode}, {(result.stderr.strip().splitlines() or [''])[-1][:160]}"
    return Item("DDP", verdict(ok), summary, dict(returncode=result.returncode, epochs=epochs))


def item_compile(check: Check) -> Item:
    """`fit` with compile=True at the recipe's size, a few steps, twice with two models alike: the first call pays
    the compilation, the second must compile nothing new (Dynamo reuses the graph for a model of the same
    architecture); its images/s against eager `fit`'s (the throughput item)."""
    if check.smoke:
        return Item("torch.compile", "SKIP", "CPU smoke mode: compiling GoogLeNet's step takes minutes on a CPU")
    left = check.deadline - time.perf_counter()
    if left < COMPILE_NEEDS_S + 4 * (check.epoch_s or 60):
        return Item("torch.compile", "SKIP", f"{left:.0f} s of the budget left: --minutes 15 or more includes it")
    from torch._dynamo.utils import counters

    data = speed.random_cifar(check.device, 50 * TrainConfig().batch_size, 1000)
    config = TrainConfig(compile=True, max_steps=20, track_grads=())
    start = time.perf_counter()
    first = fit(build_model(config).to(check.device), data, config, progress=False)
    first_s = time.perf_counter() - start
    graphs = counters["stats"]["unique_graphs"]
    second = fit(build_model(config).to(check.device), data, replace(config, max_steps=50), progress=False)
    new_graphs = counters["stats"]["unique_graphs"] - graphs
    eager = next((item.values.get("images_per_s") for item in check.items if item.name == "throughput"), None)
    compiled = second["images_per_s"][-1]
    ok = new_graphs == 0 and all(math.isfinite(x) for x in first["train_loss"] + second["train_loss"])
    summary = f"first `fit` (20 steps, compiling) {first_s:.0f} s; then {compiled:,.0f} images/s"
    summary += f" ({compiled / eager:.2f}x eager)" if eager else ""
    summary += f"; a second model alike compiled {new_graphs} new graph{'s' * (new_graphs != 1)}"
    return Item(
        "torch.compile", verdict(ok), summary, dict(first_s=first_s, images_per_s=compiled, new_graphs=new_graphs)
    )


def goal_seconds(device: torch.device) -> int | None:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else ""
    return next((s for gpu, s in GOAL_S.items() if gpu in name), None)


def item_run(check: Check) -> Item:
    """The default recipe on CIFAR-10 for as many epochs as the budget leaves (all 24 when they fit)."""
    full = TrainConfig(**check.sizes.run)
    epoch_s = check.epoch_s
    left = check.deadline - time.perf_counter() - RESERVE_S
    epochs = full.epochs  # CPU smoke mode: its tiny recipe whole
    if epoch_s is not None and not check.smoke:  # evaluation and cuDNN's autotuning: count each epoch 20% longer
        epochs = min(full.epochs, int(left / (1.2 * epoch_s + 2)))
    if epochs < 2:
        return Item("real-data run", "FAIL", f"{left:.0f} s of the budget left: not enough for 2 epochs")
    config = replace(full, epochs=epochs)
    deadline = check.deadline - RESERVE_S

    def on_epoch(history: dict) -> None:
        if time.perf_counter() > deadline:
            raise KeyboardInterrupt  # out of budget: fit stops cleanly after this epoch

    history = fit(build_model(config, len(check.data.classes)), check.data, config, on_epoch=on_epoch, progress=False)
    elapsed = [sum(history["epoch_s"][: i + 1]) for i in range(len(history["epoch"]))]
    reached = next((t for t, acc in zip(elapsed, history["test_acc"], strict=True) if acc >= TARGET), None)
    steady = statistics.median(history["epoch_s"][1:] or history["epoch_s"])
    projected = history["epoch_s"][0] + steady * (full.epochs - 1)  # the whole recipe's training time
    accuracy, whole = history["test_acc"][-1], epochs == full.epochs and not history["interrupted"]
    values = dict(
        epochs=history["epoch"][-1],
        test_acc=accuracy,
        seconds_to_target=reached,
        projected_recipe_s=projected,
        images_per_s=statistics.median(history["images_per_s"]),
        history=history,
    )
    if whole:
        ok = accuracy >= TARGET if not check.smoke else math.isfinite(accuracy)
        to_target = f"{TARGET:.0%} after {reached:.0f} s" if reached else f"{TARGET:.0%} not reached"
        summary = f"the whole recipe, {epochs} epochs: {accuracy:.2%} in {elapsed[-1]:.0f} s of training; {to_target}"
    else:
        ok = accuracy >= SHORT_RUN_FLOOR if not check.smoke else math.isfinite(accuracy)
        summary = (
            f"the recipe compressed into {history['epoch'][-1]} epochs: {accuracy:.2%} (at least {SHORT_RUN_FLOOR:.0%}"
            f"); the whole recipe would train {projected:.0f} s, time to {TARGET:.0%} at most that if it gets there"
        )
    goal = goal_seconds(check.device)
    if goal is not None:
        estimate = reached if whole else projected
        values["goal_s"] = goal
        summary += f"; goal: {TARGET:.0%} within {goal} s on this GPU"
        ok = ok and estimate is not None and estimate <= goal
    return Item("real-data run", verdict(ok), summary, values)


# --only's names -> the functions; a function that raises is reported as its first item.
ITEM_FUNCTIONS: dict[str, Callable[[Check], Item | list[Item]]] = {
    "data": item_data,
    "dtype": item_dtype,
    "syncs": item_syncs,
    "scaler": item_scaler,
    "speed": items_speed,  # throughput, peak memory, fit overhead, ours / torchvision
    "resume": item_resume,
    "ddp": item_ddp,
    "compile": item_compile,
    "run": item_run,
}


CRASH_NAMES = dict(data="data", dtype="dtype and fused SGD", syncs="syncs per step", scaler="gradient scaler")
CRASH_NAMES.update(speed="throughput", resume="resume", ddp="DDP", compile="torch.compile", run="real-data run")


def run_items(check: Check) -> None:
    """Run each item in order, printing its verdict as it finishes; an item that raises is a FAIL naming the
    error (the others still run)."""
    for key, function in ITEM_FUNCTIONS.items():
        if check.only is not None and key not in check.only:
            continue
        start = time.perf_counter()
        try:
            got = function(check)
        except CannotRun:
            raise
        except Exception as error:  # a crash is a failed item, not a lost report
            said = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
            got = Item(CRASH_NAMES[key], "FAIL", f"raised {type(error).__name__}{': ' + said if said else ''}")
        for item in got if isinstance(got, list) else [got]:
            item.values["seconds"] = time.perf_counter() - start
            check.items.append(item)
            print(f"{item.verdict:<4}  {item.name}: {item.summary}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", help="the whole CIFAR-10 (default: GOOKNET_DATA_DIR, else download)")
    p.add_argument("--minutes", type=float, default=10.0, help="time budget of the whole check (default %(default)s)")
    p.add_argument("--out", type=Path, help=f"results JSON (default {gpu_table.RESULTS}; --cpu-smoke: none)")
    p.add_argument("--cpu-smoke", action="store_true", help="every item at tiny sizes on the CPU (a test of the check)")
    p.add_argument("--only", help=f"comma-separated items to run (of: {', '.join(ITEM_FUNCTIONS)})")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """The check; returns the exit status: 0 every item passed (or was skipped), 1 one failed, 2 cannot run."""
    args = parse_args(argv)
    start = time.perf_counter()
    only = set(args.only.split(",")) if args.only else None
    if only is not None and not only <= set(ITEM_FUNCTIONS):
        print(f"gpu_check: --only takes {', '.join(ITEM_FUNCTIONS)}", file=sys.stderr)
        return 2
    try:
        if args.cpu_smoke:
            device, sizes = torch.device("cpu"), CPU_SMOKE_SIZES
            data = synthetic_data(train_per_class=16, test_per_class=5)  # 160 images: 10 scaler steps of 16
        else:
            if not torch.cuda.is_available():
                raise CannotRun("no CUDA GPU here; run it on a machine with one, or --cpu-smoke (nothing measured)")
            device, sizes = torch.device("cuda"), GPU_SIZES
            data = load_data(args.data, device)
            check_full_cifar(data)
        check = Check(device, data, sizes, args.cpu_smoke, start + 60 * args.minutes, only)
        print(f"gpu_check on {describe_device(device)}, torch {torch.__version__}: {data.describe()}", flush=True)
        run_items(check)
    except (CannotRun, GooknetError) as error:
        print(f"gpu_check: {error}", file=sys.stderr)
        return 2
    wall_s = time.perf_counter() - start
    if only is None:
        check.items.append(
            Item("budget", verdict(wall_s <= 60 * args.minutes), f"{wall_s:.0f} s of {60 * args.minutes:.0f} s")
        )
        print(f"{check.items[-1].verdict:<4}  budget: {check.items[-1].summary}")
    failed = [item.name for item in check.items if item.verdict == "FAIL"]
    results = dict(
        measured=datetime.now(UTC).date().isoformat(),
        mode="cpu-smoke" if args.cpu_smoke else "gpu",
        device=describe_device(device),
        capability=list(torch.cuda.get_device_capability(device)) if device.type == "cuda" else None,
        gpus=torch.cuda.device_count() if device.type == "cuda" else 0,
        torch=torch.__version__,
        cuda=torch.version.cuda,
        data=data.describe(),
        minutes=args.minutes,
        wall_s=wall_s,
        verdict="FAIL" if failed else "PASS",
        items=[dict(name=i.name, verdict=i.verdict, summary=i.summary, values=i.values) for i in check.items],
    )
    out = args.out or (None if args.cpu_smoke else RESULTS)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1, default=str) + "\n")
        if out.resolve() == RESULTS and only is None and not args.cpu_smoke:
            sys.path.insert(0, str(ROOT))
            from tools import readme_numbers

            if readme_numbers.main([]) != 0:  # the README's GPU table, from the file just written
                print("gpu_check: the README's GPU table was not refreshed: run make readme")
        print(f"results in {out}")
    print(f"gpu_check: {'FAIL: ' + ', '.join(failed) if failed else 'PASS'} ({wall_s:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
