"""Train GoogLeNet on CIFAR-10 from the command line; writes metrics.json and a checkpoint.

    python -m gooknet_helpers.train --out runs/full                        # the default recipe, one GPU
    python -m gooknet_helpers.train --data path/to/imagefolder --width 0.125 --epochs 5 --batch-size 64 --lr 0.2
    python -m gooknet_helpers.train --nproc-per-node 4 --batch-size 128    # 4 GPUs x 128 = the same global batch
    torchrun --nproc_per_node=4 -m gooknet_helpers.train --batch-size 128  # the same, started by torchrun itself

Under torchrun every process holds the whole training set on its GPU and trains on its shard of each epoch;
--batch-size is per process, so the global batch is nproc x batch size (scale --lr with it if you change it).

Ctrl-C stops after the current step and exits with status 130; `--resume` then continues from the checkpoint of
the last completed epoch. With several processes Ctrl-C ends them all at once: `--nproc-per-node` (torchrun's
launcher, run inside this command) then says so in one line and exits 130; under torchrun itself rank 0 says so and
torchrun adds its own traceback. Expected failures (no data, an unreadable image or checkpoint, a checkpoint from other
settings or data, a batch that does not fit, a full disk) print one message and exit with status 2; so does a bad
option (a value out of range, a device this machine lacks, an --out that cannot hold files), before any data is
loaded, and a second run on an --out that a run is using. A run whose loss stops being finite stops at the end of
that epoch with one message and status 3; its checkpoint keeps the last good epoch. Every TrainConfig field is an
option (`--help` lists them with their descriptions, taken from the comments in `TrainConfig`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import inspect
import os
import re
import signal
import sys
import threading
import typing
from dataclasses import asdict
from pathlib import Path

import torch
import torch.distributed as dist

from .config import TrainConfig, build_model, check_track_grads
from .data import ImageData, load_data, synthetic_data
from .files import RunLock, check_output_folder
from .metrics import save_metrics, summarize
from .runtime import GooknetError, describe_device, pick_device
from .stopping import end_quiet_start
from .training import DivergedError, fit

FLAG_NAMES = {"aux_logits": "aux"}  # TrainConfig fields whose option is not simply --field-name


def field_help() -> dict[str, str]:
    """The comment after each TrainConfig field in config.py: the one place the fields are described."""
    try:
        source = inspect.getsource(TrainConfig)
    except OSError:  # installed without sources: the options stay, without descriptions
        return {}
    return {name: text.replace("%", "%%") for name, text in re.findall(r"^    (\w+): .+?  # (.+)$", source, re.M)}


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field, typed from its annotation: --no-x for booleans, choices for Literals."""
    hints, helps, defaults = typing.get_type_hints(TrainConfig), field_help(), TrainConfig()
    group = parser.add_argument_group("training settings (the fields of TrainConfig)")
    for f in dataclasses.fields(TrainConfig):
        hint = hints[f.name]
        help_text = f"{helps.get(f.name, f'TrainConfig.{f.name}')} (default: %(default)s)"
        options = dict(dest=f.name, default=getattr(defaults, f.name), help=help_text)
        if hint is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(hint) is typing.Literal:
            options["choices"] = typing.get_args(hint)
        elif typing.get_origin(hint) is tuple:
            options.update(nargs="*", type=str)
        else:  # int, float, str, or `int | None`
            options["type"] = next(t for t in typing.get_args(hint) or (hint,) if t is not type(None))
        group.add_argument("--" + FLAG_NAMES.get(f.name, f.name).replace("_", "-"), **options)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m gooknet_helpers.train", description=__doc__.split("\n")[0])
    p.add_argument(
        "--data", help="ImageFolder or cifar-10-batches-py folder (default: GOOKNET_DATA_DIR, else a download)"
    )
    p.add_argument("--synthetic", action="store_true", help="train on the built-in SYNTHETIC images (a quick check)")
    p.add_argument(
        "--out", default="runs/train", help="output folder for metrics.json and checkpoint.pt (default: %(default)s)"
    )
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt if it exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--nproc-per-node",
        type=int,
        default=1,
        help="processes (GPUs) on this machine, started by torchrun's launcher; --batch-size is per process",
    )
    add_config_options(p)
    return p.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{**values, "track_grads": tuple(values["track_grads"])})


def load_training_data(args: argparse.Namespace, device: torch.device, rank: int, distributed: bool) -> ImageData:
    """The images for this process. Under torchrun rank 0 loads first (downloading CIFAR-10 if it must) while the
    others wait at a barrier; then they read what it fetched, so that only one process downloads."""
    if args.synthetic:
        return synthetic_data().to(device)
    if distributed and rank != 0:
        dist.barrier()
        return load_data(args.data, device, download=False)
    try:
        return load_data(args.data, device)
    finally:
        if distributed:
            dist.barrier()  # also when loading failed: the others then fail with their own message, not hang


def check_args(args: argparse.Namespace) -> tuple[torch.device, TrainConfig, Path]:
    """Every option checked before any process is started, data loaded or step trained: the device (DeviceError),
    every TrainConfig field (ConfigError, see `TrainConfig.__post_init__`; the --track-grads names against the
    network), and --out (OutputFolderError: a file, a folder that cannot be written, /proc). Each is one line."""
    device = pick_device(args.device)
    config = config_from_args(args)
    check_track_grads(config)
    return device, config, check_output_folder(args.out)


def train(args: argparse.Namespace) -> int:
    """The run itself, holding --out's lock (a second run on the same --out refuses at once, OutputInUseError);
    returns the exit status (0 finished, 130 stopped by Ctrl-C)."""
    device, config, out = check_args(args)
    first = int(os.environ.get("RANK", "0")) == 0  # under torchrun, rank 0 alone holds the lock
    with RunLock(out / "checkpoint.pt") if first else contextlib.nullcontext():
        return run(args, device, config, out)


def run(args: argparse.Namespace, device: torch.device, config: TrainConfig, out: Path) -> int:
    """Load the data, train, write metrics.json; the exit status."""
    distributed = "LOCAL_RANK" in os.environ  # set by torchrun
    if distributed:
        local_rank = int(os.environ["LOCAL_RANK"])
        if device.type == "cuda":
            device = torch.device("cuda", local_rank)
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank = dist.get_rank() if distributed else 0
    data = load_training_data(args, device, rank, distributed)
    if rank == 0:
        world = dist.get_world_size() if distributed else 1
        print(f"data: {data.describe()}\ndevice: {describe_device(device)} x {world} process(es)")
        print(f"config: {asdict(config)}")
    model = build_model(config, len(data.classes))
    history = fit(
        model, data, config, checkpoint=out / "checkpoint.pt", resume=args.resume, progress=not args.no_progress
    )
    if history["interrupted"]:
        return 130  # fit has printed where it stopped and how to continue
    if rank == 0:
        summary = summarize(config, history, data, model)
        path = save_metrics(summary, out)
        print(
            f"test accuracy {summary.final_test_acc:.4f} (best {summary.best_test_acc:.4f}) after "
            f"{summary.train_s:.1f} s of training, {summary.images_per_s:,.0f} images/s; metrics in {path}"
        )
    return 0


LAUNCHED = "GOOKNET_LAUNCHED"  # set by `launch` for the processes it starts


def stopped_line(args: argparse.Namespace) -> str:
    checkpoint = Path(args.out) / "checkpoint.pt"
    return (
        f"Stopped by Ctrl-C. {checkpoint} holds the last completed epoch, if one was saved: run again with --resume "
        "to continue from it."
    )


def without_option(argv: list[str], option: str) -> list[str]:
    """`argv` without `option` and its value (`--opt N` or `--opt=N`)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == option:
            skip = True
        elif not arg.startswith(option + "="):
            out.append(arg)
    return out


def launch(args: argparse.Namespace, argv: list[str]) -> int:
    """`--nproc-per-node N`: torchrun's launcher, run in this process, starts N processes of this command on this
    machine. Ctrl-C: the launcher, which alone handles it, ends every process at once (SIGTERM, which also ends a
    process blocked in a collective), says so in one line and returns 130, without torchrun's traceback."""
    import logging

    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser
    from torch.distributed.run import run as torchrun

    options = ["--standalone", f"--nproc-per-node={args.nproc_per_node}", "--signals-to-handle=SIGTERM,SIGHUP,SIGQUIT"]
    launcher = get_args_parser().parse_args([*options, "-m", "gooknet_helpers.train", *argv])
    logging.getLogger("torch.distributed.elastic").setLevel(logging.ERROR)  # its notes on stopping the processes
    os.environ[LAUNCHED] = "1"
    try:
        torchrun(launcher)
    except KeyboardInterrupt:
        print(f"\n{stopped_line(args)}", file=sys.stderr, flush=True)
        return 130
    except ChildFailedError as error:  # the failing process has printed its message
        codes = [failure.exitcode for failure in error.failures.values()]
        return next((code for code in codes if code > 0), 1)
    finally:
        os.environ.pop(LAUNCHED, None)
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status: 0 done, 2 an expected failure or a bad option (one message),
    3 training diverged (one message; the checkpoint keeps the last good epoch), 130 Ctrl-C."""
    end_quiet_start()  # Ctrl-C while importing has exited quietly; from here on it stops training cleanly
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    try:
        check_args(args)  # every bad value is one line before any process starts or any data is loaded
    except GooknetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nStopped by Ctrl-C before training started: nothing was written.", file=sys.stderr)
        return 130
    if args.nproc_per_node > 1 and "LOCAL_RANK" not in os.environ:
        return launch(args, without_option(argv, "--nproc-per-node"))
    previous = signal.getsignal(signal.SIGINT)
    if LAUNCHED in os.environ:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the launcher handles Ctrl-C and ends this process
    try:
        return train(args)
    except DivergedError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except GooknetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside the training steps (loading data, a second Ctrl-C), or several processes
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # torchrun sends another: no traceback in what follows
        if int(os.environ.get("RANK", "0")) == 0:  # one line, not one per process
            print(f"\n{stopped_line(args)}", file=sys.stderr)
        return 130
    finally:
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    sys.exit(main())
