"""The benchmark scripts: ablations (tiny budget, synthetic data), the speed table, and the GPU check's CPU exit."""

import json
import sys
from pathlib import Path

import pytest
import torch

from gooknet_helpers.reference import ARMS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import ablations
import gpu_check
import speed


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_ablations_write_every_run_and_a_verdict(tmp_path, capsys, one_thread):
    out = tmp_path / "ablations.json"
    ablations.main(["--synthetic", "--budget", "smoke", "--seeds", "2", "--out", str(out)])
    results = json.loads(out.read_text())
    assert results["budget"]["name"] == "smoke" and "SYNTHETIC" in results["data"]
    assert sorted((r["arm"], r["seed"]) for r in results["runs"]) == sorted(
        (arm, seed) for arm in ARMS for seed in range(2)
    )
    for run in results["runs"]:
        assert 0 <= run["final_test_acc"] <= 1 and run["train_s"] > 0 and run["macs"] > 0 and run["device"]
        assert run["config"]["channel_multiple"] == 1 and run["config"]["seed"] == run["seed"]
    by_arm = {r["arm"]: r for r in results["runs"] if r["seed"] == 0}
    assert by_arm["bottleneck + aux"]["config"]["aux_logits"] and not by_arm["bottleneck"]["config"]["aux_logits"]
    assert by_arm["naive"]["config"]["block"] == "naive"
    assert abs(by_arm["naive"]["macs"] / by_arm["bottleneck"]["macs"] - 1) < 0.02  # matched multiply-adds
    assert by_arm["bottleneck + aux"]["params_with_aux"] > by_arm["bottleneck"]["params_with_aux"]
    assert set(results["comparisons"]) == {"aux_heads", "reductions"}
    assert all("verdict" in c and c["se"] >= 0 for c in results["comparisons"].values())
    assert "no difference at this budget" in capsys.readouterr().out or any(
        c["settled"] for c in results["comparisons"].values()
    )

    # A second call finds every run done, trains nothing, and keeps the file.
    before = out.read_text()
    ablations.main(["--synthetic", "--budget", "smoke", "--seeds", "2", "--out", str(out)])
    assert json.loads(out.read_text())["runs"] == json.loads(before)["runs"]


def test_speed_writes_the_recipe_and_the_comparison(tmp_path, one_thread):
    out = tmp_path / "speed.json"
    argv = ["--device", "cpu", "--steps", "1", "--repeats", "1", "--size", "32", "--batch-size", "2", "--images", "500"]
    speed.main([*argv, "--width", "0.125", "--cifar-batch-size", "8", "--json", str(out)])
    results = json.loads(out.read_text())
    assert set(results["rows"]) == {"recipe", "step", "ours", "torchvision"}
    recipe = results["rows"]["recipe"]
    assert recipe["images_per_s"] > 0 and recipe["config"]["batch_size"] == 8 and recipe["config"]["width"] == 0.125
    assert 0 <= recipe["data_fraction"] < 1 and results["ratio"] > 0 and results["pipeline_images_per_s"] > 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_gpu_check_without_cuda_exits_2_with_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        gpu_check.main([])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no CUDA GPU" in err


def test_gpu_table_in_the_readme_is_rendered_from_results(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert gpu_check.render_table(None) in readme, "README's GPU table: python benchmarks/gpu_check.py writes it"
    results = dict(
        measured="2026-11-26",
        device="cuda: NVIDIA H100",
        torch="2.14.1",
        recipe=dict(
            config=dict(epochs=24),
            final_test_acc=0.9412,
            seconds_to_target=151.2,
            train_s=180.0,
            images_per_s=81234.5,
            peak_memory_gb=5.04,
        ),
        speed=dict(rows=dict(ours=dict(images_per_s=3100.0), torchvision=dict(images_per_s=3000.0)), ratio=1.0333),
    )
    copy = tmp_path / "README.md"
    copy.write_text(readme, encoding="utf-8")
    gpu_check.update_readme(gpu_check.render_table(results), copy)
    table = copy.read_text(encoding="utf-8")
    assert "| 94.12% |" in table and "| 151 s |" in table and "81,234" in table and "(ratio 1.03)" in table
    assert "unmeasured" not in table.split("<!-- gpu-check:start -->")[1].split("<!-- gpu-check:end -->")[0]
