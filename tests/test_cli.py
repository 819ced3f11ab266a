"""The command line end to end: a short CPU run writes metrics.json and a checkpoint; every TrainConfig field is an
option; expected failures are one message and exit status 2 (Ctrl-C: tests/test_interrupt.py)."""

import dataclasses
import json
import os
import subprocess
import sys

import pytest
import torch
from PIL import Image

from gooknet_helpers import train as train_module
from gooknet_helpers.checkpoints import load_model
from gooknet_helpers.config import TrainConfig
from gooknet_helpers.data import CIFAR10_CLASSES, synthetic_data
from gooknet_helpers.train import config_from_args, field_help, load_training_data, main, parse_args
from gooknet_helpers.training import predict

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_cli_short_cpu_run_writes_metrics_and_checkpoint(tmp_path):
    args = ["--synthetic", "--width", "0.125", "--epochs", "2", "--batch-size", "50", "--max-steps", "6", "--aux"]
    command = [sys.executable, "-m", "gooknet_helpers.train", "--device", "cpu", "--no-progress", "--out", tmp_path]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "SYNTHETIC" in result.stdout and "test accuracy" in result.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["config"]["aux_logits"] and metrics["config"]["max_steps"] == 6
    assert metrics["history"]["step"] == [6] and metrics["history"]["epoch"] == [0.3]  # 6 of 20 steps
    assert metrics["macs"] > 0 and "SYNTHETIC" in metrics["data"]
    model, config = load_model(tmp_path / "checkpoint.pt")
    assert config.width == 0.125 and model.aux1 is not None
    # The reported accuracy is that of the saved weights on the same images, re-measured here.
    data = synthetic_data()
    right = (predict(model, data, config).argmax(1) == data.test_labels).sum().item()
    assert metrics["final_test_acc"] == pytest.approx(right / len(data.test_labels))


def run_main(args: list[str], capsys) -> tuple[int, str]:
    """main() in this process: its exit status and what it printed to stderr."""
    status = main([*args, "--device", "cpu", "--no-progress"])
    return status, capsys.readouterr().err


def test_cli_missing_folder_is_a_clear_error(tmp_path, capsys):
    status, err = run_main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path)], capsys)
    assert status == 2 and err.startswith("error: ") and "ImageFolder" in err and "GOOKNET_DATA_DIR" in err


def test_cli_corrupt_image_names_the_file(tmp_path, capsys):
    for split in ("train", "test"):
        for name in CIFAR10_CLASSES:
            (tmp_path / split / name).mkdir(parents=True)
            Image.new("RGB", (32, 32)).save(tmp_path / split / name / "0.png")
    (tmp_path / "train" / "cat" / "1.jpg").write_bytes(b"\xff\xd8 not really a JPEG")
    status, err = run_main(["--data", str(tmp_path), "--out", str(tmp_path / "run")], capsys)
    assert status == 2 and "1.jpg" in err and "Cannot read the image" in err and "Traceback" not in err


def test_cli_resume_from_a_damaged_or_foreign_checkpoint_is_exit_2(tmp_path, capsys):
    quick = ["--synthetic", "--width", "0.125", "--epochs", "1", "--batch-size", "50", "--max-steps", "2"]
    out = ["--out", str(tmp_path), "--resume"]
    assert run_main([*quick, *out], capsys)[0] == 0
    status, err = run_main([*quick, *out, "--width", "0.25", "--lr", "0.1"], capsys)
    assert (
        status == 2 and "width 0.125 in the checkpoint, 0.25 now" in err and "lr 0.4 in the checkpoint, 0.1 now" in err
    )
    checkpoint = tmp_path / "checkpoint.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
    status, err = run_main([*quick, *out], capsys)
    assert status == 2 and str(checkpoint) in err and "delete" in err and err.count("\n") == 1


def test_help_offers_every_train_config_field_with_its_description(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for f in dataclasses.fields(TrainConfig):
        flag = "--aux" if f.name == "aux_logits" else "--" + f.name.replace("_", "-")
        assert flag in text and " ".join(field_help()[f.name].split()) in text, f.name
    assert "--no-channels-last" in text and "{inception,naive}" in text and "{auto,bf16,fp16,none}" in text


def test_options_build_the_config():
    assert config_from_args(parse_args([])) == TrainConfig()
    reference = "--data d --width 0.25 --aux --epochs 30 --batch-size 256 --lr 0.2 --out o --resume --no-progress"
    args = parse_args(reference.split())
    assert config_from_args(args) == TrainConfig(epochs=30, batch_size=256, lr=0.2, width=0.25, aux_logits=True)
    assert args.resume and args.no_progress and args.out == "o" and args.data == "d"
    other = "--no-channels-last --track-grads conv1 --max-steps 5 --amp bf16 --block naive --channel-multiple 1"
    config = config_from_args(parse_args(other.split()))
    assert not config.channels_last and config.track_grads == ("conv1",) and config.max_steps == 5
    assert (config.amp, config.block, config.channel_multiple) == ("bf16", "naive", 1)


@pytest.mark.parametrize("fails", [False, True])
def test_under_torchrun_rank_0_loads_first_and_alone_downloads(monkeypatch, fails):
    events = []

    def load_data(root, device, download=True):
        events.append(f"load download={download}")
        if fails:
            raise OSError("no network")
        return "images"

    monkeypatch.setattr(train_module.dist, "barrier", lambda: events.append("barrier"))
    monkeypatch.setattr(train_module, "load_data", load_data)
    args = parse_args([])
    for rank, expected in ((0, ["load download=True", "barrier"]), (1, ["barrier", "load download=False"])):
        events.clear()
        if fails:  # rank 0 still reaches the barrier, so the others do not wait for ever
            with pytest.raises(OSError):
                load_training_data(args, torch.device("cpu"), rank, distributed=True)
        else:
            assert load_training_data(args, torch.device("cpu"), rank, distributed=True) == "images"
        assert events == expected


@pytest.mark.skipif(not torch.distributed.is_available(), reason="this torch build has no torch.distributed")
def test_cli_under_torchrun_two_cpu_processes(tmp_path):
    """DistributedDataParallel over gloo: two processes, each on its shard; rank 0 writes the metrics."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command += ["-m", "gooknet_helpers.train", "--device", "cpu", "--no-progress", "--out", tmp_path, "--synthetic"]
    command += ["--width", "0.125", "--epochs", "1", "--batch-size", "25", "--max-steps", "4"]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "x 2 process(es)" in result.stdout
    assert json.loads((tmp_path / "metrics.json").read_text())["history"]["step"] == [4]


def test_importing_the_command_line_loads_no_picture_or_summary_library():
    """Counting and training need no plotting, no image reading and no torchinfo: `python -m gooknet_helpers.train`
    starts without matplotlib, PIL or torchinfo (PIL comes in only when image files are read)."""
    code = (
        "import sys, gooknet_helpers.train; "
        "print(' '.join(m for m in ('matplotlib', 'PIL', 'torchinfo') if m in sys.modules))"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.split() == []
