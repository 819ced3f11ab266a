"""The shipped results: exporting a run, loading the reference model, the ablation figure."""

import json
import os
import sys
from pathlib import Path

import pytest
import torch

from gooknet_helpers import plots, reference_model
from gooknet_helpers.config import TrainConfig, build_model
from gooknet_helpers.data import load_data, synthetic_data
from gooknet_helpers.metrics import save_metrics, summarize
from gooknet_helpers.reference import (
    METADATA,
    METRICS,
    WEIGHTS,
    ReferenceUnavailableError,
    _file,
    load_weights,
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
    assert saved == json.loads(json.dumps(metadata)) and saved["test_images"] == len(data.test_labels) == 30
    assert saved["test_acc"] == pytest.approx(saved["test_acc_logged"], abs=1e-6)  # same weights, same images
    assert saved["epochs"] == 1 and saved["command"].startswith("python -m") and saved["macs"] > 0
    assert saved["params"] < saved["params_with_aux"]
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


def test_ablation_plot_shows_a_mean_and_error_bar_per_arm():
    runs = [dict(arm=a, seed=s, final_test_acc=0.5 + 0.01 * s + 0.05 * (a == "b")) for a in "ab" for s in range(3)]
    fig = plots.ablation_means(runs, ["a", "b"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    assert [t.get_text() for t in ax.texts] == ["51.0%", "56.0%"]  # the means, written beside them
    assert len(ax.containers) == 2  # one error bar per arm
