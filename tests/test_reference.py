"""The shipped results: exporting a run, loading the reference model, the ablation figure."""

import json
import os
import sys
from pathlib import Path

import pytest
import torch

from gooknet_helpers import reference_model
from gooknet_helpers.config import TrainConfig, build_model
from gooknet_helpers.costs import measure
from gooknet_helpers.data import load_data, normalize, synthetic_data
from gooknet_helpers.metrics import save_metrics, summarize
from gooknet_helpers.reference import (
    METADATA,
    METRICS,
    WEIGHTS,
    ReferenceUnavailableError,
    _file,
    load_weights,
    weights_digest,
)
from gooknet_helpers.training import fit, predict

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools import export_reference

SHIPPED = (ROOT / "gooknet_helpers" / "reference" / WEIGHTS).exists()
needs_weights = pytest.mark.skipif(not SHIPPED, reason="no reference weights yet (tools/export_reference.py)")


@pytest.fixture
def finished_run(tmp_path):
    """A tiny finished run on synthetic data: checkpoint.pt and metrics.json in tmp_path/run, and its data."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    data = synthetic_data(train_per_class=10, test_per_class=3)
    config = TrainConfig(epochs=1, width=0.125, batch_size=25, aux_logits=True, track_grads=())
    model = build_model(config)
    history = fit(model, data, config, checkpoint=tmp_path / "run" / "checkpoint.pt", progress=False)
    save_metrics(summarize(config, history, data, model), tmp_path / "run")
    yield tmp_path / "run", data, model
    torch.set_num_threads(threads)


def test_export_writes_weights_that_reproduce_the_model(finished_run, tmp_path):
    run_dir, data, model = finished_run
    metadata = export_reference.export(run_dir, tmp_path / "out", data, "python -m gooknet_helpers.train ...")
    exported = load_weights(tmp_path / "out" / WEIGHTS)
    assert not exported.training and exported.config == model.config
    config = TrainConfig(width=0.125)
    assert torch.equal(predict(exported, data, config), predict(model.eval(), data, config))
    saved = json.loads((tmp_path / "out" / METADATA).read_text())
    # Each recorded number against one computed here, from the model and the data, not from what export returned.
    right = (model.eval()(normalize(data.test_images)).argmax(1) == data.test_labels).sum().item()
    assert saved["test_images"] == len(data.test_labels) == 30 and saved["test_acc"] == pytest.approx(right / 30)
    assert saved["test_acc_logged"] == pytest.approx(right / 30)  # logged at the end of training: same weights
    assert (saved["epochs"], saved["steps"]) == (1, 4)  # 100 training images in batches of 25: 4 steps
    assert saved["command"] == "python -m gooknet_helpers.train ..." == metadata["command"]
    without_aux = sum(p.numel() for name, p in model.named_parameters() if not name.startswith("aux"))
    assert (saved["params"], saved["params_with_aux"]) == (without_aux, sum(p.numel() for p in model.parameters()))
    assert saved["macs"] == measure(model, (3, 32, 32)).macs and saved["config"]["width"] == 0.125
    assert saved["weights_sha256"] == weights_digest(model)
    assert str(tmp_path) not in json.dumps(saved) and "/work" not in saved["data"]
    assert json.loads((tmp_path / "out" / METRICS).read_text()) == json.loads((run_dir / METRICS).read_text())


def test_export_refuses_an_unfinished_run_in_one_line(finished_run, tmp_path, monkeypatch, capsys):
    run_dir, _, _ = finished_run
    (run_dir / METRICS).unlink()
    monkeypatch.setenv("GOOKNET_SMOKE", "1")  # synthetic data without a folder
    monkeypatch.delenv("GOOKNET_DATA_DIR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        export_reference.main([str(run_dir), "--command", "x", "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "has not finished" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_missing_result_file_says_how_to_get_it():
    with pytest.raises(ReferenceUnavailableError, match="not in this installation.*git pull"):
        _file("missing.json")


@needs_weights
def test_reference_model_loads_in_eval_mode_with_its_recorded_config():
    model, metadata = reference_model()
    assert not model.training and model.config == metadata["model_config"]
    assert metadata["test_images"] == 10_000  # measured on the whole CIFAR-10 test set
    assert sum(p.numel() for p in model.parameters()) == metadata["params_with_aux"]


@needs_weights
@pytest.mark.skipif(not os.environ.get("GOOKNET_DATA_DIR"), reason="needs GOOKNET_DATA_DIR (the CIFAR-10 subset)")
def test_reference_accuracy_on_the_subset_matches_its_metadata():
    model, metadata = reference_model()
    data = load_data()
    config = TrainConfig(**{**metadata["config"], "track_grads": ()})
    accuracy = (predict(model, data, config).argmax(1) == data.test_labels).float().mean().item()
    # The subset's test images are CIFAR-10 test images: within about 3 binomial standard errors of 1,000 images.
    assert accuracy == pytest.approx(metadata["test_acc"], abs=0.04)
