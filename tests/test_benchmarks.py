"""The benchmark scripts: ablations (tiny budget, synthetic data), the speed table, and the GPU check's CPU exit."""

import json
import sys
from pathlib import Path

import pytest
import torch

from gooknet_helpers.ablations import ARMS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import ablations
import gpu_check
import speed


def test_ablations_write_every_run_and_resume_what_is_missing(tmp_path, capsys, one_thread):
    out = tmp_path / "ablations.json"
    argv = ["--synthetic", "--budget", "smoke", "--seeds", "2", "--out", str(out)]
    ablations.main([*argv, "--shard", "1/2"])  # every second run only
    half = json.loads(out.read_text())["runs"]
    assert [(r["arm"], r["seed"]) for r in half] == [("bottleneck + aux", 0), ("bottleneck", 1), ("naive", 1)]
    ablations.main([*argv, "--shard", "0/2"])  # the other shard adds its runs and keeps the first one's
    results = json.loads(out.read_text())
    assert results["budget"]["name"] == "smoke" and "SYNTHETIC" in results["data"]
    assert sorted((r["arm"], r["seed"]) for r in results["runs"]) == sorted(
        (arm, seed) for arm in ARMS for seed in range(2)
    )
    assert [r for r in results["runs"] if r in half] == half
    by_arm = {r["arm"]: r for r in results["runs"] if r["seed"] == 0}
    assert by_arm["bottleneck + aux"]["config"]["aux_logits"] and not by_arm["bottleneck"]["config"]["aux_logits"]
    assert by_arm["naive"]["config"]["block"] == "naive" and by_arm["naive"]["config"]["channel_multiple"] == 1
    assert abs(by_arm["naive"]["macs"] / by_arm["bottleneck"]["macs"] - 1) < 0.02  # matched multiply-adds
    assert set(results["comparisons"]) == {"aux_heads", "reductions"}

    # A third call finds every run done and trains nothing; more seeds extend the same file.
    before = out.read_text()
    ablations.main(argv)
    assert json.loads(out.read_text())["runs"] == json.loads(before)["runs"]
    assert "6 of 6 runs saved; this shard trains 0" in capsys.readouterr().out


def test_ablations_refuse_a_file_of_another_budget(tmp_path, capsys):
    out = tmp_path / "ablations.json"
    out.write_text(json.dumps(dict(budget=dict(name="cpu"), data="x", runs=[])))
    with pytest.raises(SystemExit) as exit_info:
        ablations.cli(["--synthetic", "--budget", "smoke", "--out", str(out)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another budget" in err and "--out" in err


@pytest.mark.parametrize("shard", ["2/2", "a/b", "1"])
def test_ablations_reject_a_bad_shard(shard, capsys):
    with pytest.raises(SystemExit) as exit_info:
        ablations.parse_args(["--shard", shard])
    assert exit_info.value.code == 2 and "I/N" in capsys.readouterr().err


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
