"""Stopping training (Ctrl-C, a notebook's stop button) loses nothing: fit returns the partial history, the checkpoint
of the last completed epoch loads, and resuming reaches exactly the weights of an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from gooknet_helpers import training
from gooknet_helpers.checkpoints import load_model
from gooknet_helpers.config import TrainConfig, build_model
from gooknet_helpers.data import synthetic_data
from gooknet_helpers.metrics import summarize
from gooknet_helpers.stopping import StopRequest
from gooknet_helpers.training import fit

CONFIG = TrainConfig(epochs=2, width=0.125, batch_size=20, lr=0.2, aux_logits=True, track_grads=("conv1",))
DATA = synthetic_data(train_per_class=10, test_per_class=2)  # 100 training images: 5 steps per epoch


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def straight(one_thread):
    """The weights of the uninterrupted run."""
    model = build_model(CONFIG)
    fit(model, DATA, CONFIG, progress=False)
    return model.state_dict()


def interrupt_at(monkeypatch, epoch: int, index: int, how: str) -> None:
    """Make the training batches of `epoch` (1-based) interrupt when batch `index` is produced: a real SIGINT
    (Ctrl-C, the stop button), or a KeyboardInterrupt raised in the middle of the step."""
    real, epochs = training.batches, []

    def batches(*args, **kwargs):
        epochs.append(kwargs.get("train", False))
        for i, batch in enumerate(real(*args, **kwargs)):
            if kwargs.get("train") and sum(epochs) == epoch and i == index:
                if how == "raise":
                    raise KeyboardInterrupt
                signal.raise_signal(signal.SIGINT)
            yield batch

    monkeypatch.setattr(training, "batches", batches)


def test_first_ctrl_c_is_a_request_and_a_second_one_interrupts():
    with StopRequest() as stop:
        signal.raise_signal(signal.SIGINT)
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with StopRequest(clean=False) as stop, pytest.raises(KeyboardInterrupt):  # several processes: Ctrl-C as usual
        signal.raise_signal(signal.SIGINT)


@pytest.mark.parametrize("how", ["signal", "raise"])
def test_interrupted_fit_returns_partial_history_and_resumes_exactly(how, straight, tmp_path, monkeypatch, capsys):
    path = tmp_path / "checkpoint.pt"
    model = build_model(CONFIG)
    with monkeypatch.context() as m:
        interrupt_at(m, epoch=2, index=1, how=how)
        history = fit(model, DATA, CONFIG, checkpoint=path, progress=False)
    # A SIGINT lets the step of batch 1 finish (2 steps of epoch 2 done); a KeyboardInterrupt abandons it (1 done).
    steps = 2 if how == "signal" else 1
    assert history["interrupted"] and history["epoch"] == [1, 1 + steps / 5] and history["step"] == [5, 5 + steps]
    assert len(history["grad_norm"]["conv1"]) == 5 + steps and len(history["test_acc"]) == 2
    summary = summarize(CONFIG, history, DATA, model)  # the cells after training work with the partial history
    assert summary.final_test_acc == history["test_acc"][-1]
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"step {5 + steps} of 10" in line and "holds epoch 1" in line and "resume=True" in line
    assert "--resume" in line and not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())

    loaded, _ = load_model(path)  # the checkpoint of the last completed epoch
    assert not torch.equal(loaded.conv1.conv.weight, model.conv1.conv.weight.cpu())  # the model kept going
    resumed = build_model(CONFIG)
    history = fit(resumed, DATA, CONFIG, checkpoint=path, resume=True, progress=False)
    assert history["epoch"] == [1, 2] and not history["interrupted"]
    for (name, a), b in zip(straight.items(), resumed.state_dict().values(), strict=True):
        assert torch.allclose(a, b, atol=1e-6), name


def test_stop_in_the_first_epoch_says_there_is_nothing_to_resume(tmp_path, monkeypatch, capsys):
    interrupt_at(monkeypatch, epoch=1, index=2, how="signal")
    history = fit(build_model(CONFIG), DATA, CONFIG, checkpoint=tmp_path / "checkpoint.pt", progress=False)
    assert history["epoch"] == [0.6] and history["interrupted"]
    assert "before the first epoch ended" in capsys.readouterr().err and not (tmp_path / "checkpoint.pt").exists()
    interrupt_at(monkeypatch, epoch=1, index=2, how="signal")
    fit(build_model(CONFIG), DATA, CONFIG, progress=False)
    assert "No checkpoint was set" in capsys.readouterr().err


def ctrl_c_as_in_a_terminal() -> None:
    """preexec_fn: the default SIGINT disposition, whatever this process inherited (a background job ignores it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_command_line_ctrl_c_exits_130_without_traceback_and_resume_completes(tmp_path):
    """A real SIGINT to `python -m gooknet_helpers.train`, sent once the first epoch's checkpoint exists."""
    command = [sys.executable, "-m", "gooknet_helpers.train", "--synthetic", "--device", "cpu", "--no-progress"]
    command += ["--out", str(tmp_path), "--width", "0.125", "--epochs", "2", "--batch-size", "100", "--lr", "0.2"]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    deadline = time.monotonic() + 240  # generous: the machine may be busy
    while not (tmp_path / "checkpoint.pt").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=240)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "--resume" in stderr.strip().splitlines()[-1]
    assert not (tmp_path / "metrics.json").exists()  # metrics.json is written by finished runs only

    result = subprocess.run([*command, "--resume"], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    metrics = (tmp_path / "metrics.json").read_text()  # synthetic_data(): 1,000 images, 10 steps per epoch
    assert json.loads(metrics)["history"]["epoch"] == [1, 2]
