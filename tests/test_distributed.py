"""DistributedDataParallel on two CPU processes: every rank's random states are saved and restored, so a resumed
run reaches exactly the weights of an uninterrupted one, and dropout and crops differ between ranks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch


@pytest.mark.skipif(not torch.distributed.is_available(), reason="this torch build has no torch.distributed")
def test_two_process_resume_restores_every_ranks_random_states(tmp_path):
    worker = Path(__file__).with_name("ddp_resume_worker.py")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", worker, tmp_path]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    checked = json.loads((tmp_path / "result.json").read_text())
    assert checked["epochs"] == [1, 2] and checked["world_size"] == checked["ranks"] == 2
    assert checked["augment_differ"] and checked["dropout_differ"] and checked["rank0_on_top"]
    assert checked["same_weights"]  # rank 1 resumed with its own crops and dropout, not rank 0's
