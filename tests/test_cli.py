"""The command line end to end: a short CPU run writes metrics.json and a checkpoint."""

import json
import os
import subprocess
import sys

import pytest
import torch

from gooknet_helpers.data import DataUnavailableError
from gooknet_helpers.train import main
from gooknet_helpers.training import load_model


def test_cli_short_cpu_run_writes_metrics_and_checkpoint(tmp_path):
    args = ["--synthetic", "--width", "0.125", "--epochs", "2", "--batch-size", "50", "--max-steps", "6", "--aux"]
    command = [sys.executable, "-m", "gooknet_helpers.train", "--device", "cpu", "--no-progress", "--out", tmp_path]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "SYNTHETIC" in result.stdout and "test accuracy" in result.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["config"]["aux_logits"] and metrics["config"]["max_steps"] == 6
    assert metrics["history"]["step"] == [6] and 0 <= metrics["final_test_acc"] <= 1
    assert metrics["macs"] > 0 and "SYNTHETIC" in metrics["data"]
    model, config = load_model(tmp_path / "checkpoint.pt")
    assert config.width == 0.125 and model.aux1 is not None


def test_cli_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataUnavailableError, match="ImageFolder"):
        main(["--data", str(tmp_path / "nowhere"), "--device", "cpu", "--out", str(tmp_path)])


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
