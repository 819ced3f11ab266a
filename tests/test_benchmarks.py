"""The benchmark scripts: ablations (tiny budget, synthetic data), the speed table, and the GPU check's CPU exit."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gooknet_helpers.ablations import ARMS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import ablation_speed
import ablations
import gpu_check
import gpu_table
import speed
import threads

from tools import readme_numbers


def test_ablations_write_every_run_and_resume_what_is_missing(tmp_path, capsys, one_thread):
    out = tmp_path / "ablations.json"
    argv = ["--synthetic", "--budget", "smoke", "--seeds", "2", "--out", str(out)]
    # A live worker (this process stands in for it) has claimed one pair: this call trains the other five.
    ablations.claims_path(out).write_text(json.dumps({"naive/1": os.getpid()}))
    ablations.main(argv)
    five = json.loads(out.read_text())["runs"]
    assert [(r["arm"], r["seed"]) for r in five] == [(a, s) for s in range(2) for a in ARMS if (a, s) != ("naive", 1)]
    # That worker stops without saving: its claim lapses with its process, and the next call trains the pair.
    ablations.claims_path(out).write_text(json.dumps({"naive/1": dead_pid()}))
    ablations.main(argv)
    results = json.loads(out.read_text())
    assert results["budget"]["name"] == "smoke" and "SYNTHETIC" in results["data"]
    assert sorted((r["arm"], r["seed"]) for r in results["runs"]) == sorted(
        (arm, seed) for arm in ARMS for seed in range(2)
    )
    assert results["runs"][:5] == five
    by_arm = {r["arm"]: r for r in results["runs"] if r["seed"] == 0}
    assert by_arm["bottleneck + aux"]["config"]["aux_logits"] and not by_arm["bottleneck"]["config"]["aux_logits"]
    assert by_arm["naive"]["config"]["block"] == "naive" and by_arm["naive"]["config"]["channel_multiple"] == 1
    assert abs(by_arm["naive"]["macs"] / by_arm["bottleneck"]["macs"] - 1) < 0.02  # matched multiply-adds
    assert set(results["comparisons"]) == {"aux_heads", "reductions"}

    # A third call finds every run done and trains nothing; more seeds extend the same file.
    before = out.read_text()
    ablations.main(argv)
    assert json.loads(out.read_text())["runs"] == json.loads(before)["runs"]
    assert "6 of 6 runs saved; 0 to train" in capsys.readouterr().out


def dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_ablations_refuse_a_file_of_another_budget(tmp_path, capsys):
    out = tmp_path / "ablations.json"
    out.write_text(json.dumps(dict(budget=dict(name="cpu"), data="x", runs=[])))
    with pytest.raises(SystemExit) as exit_info:
        ablations.cli(["--synthetic", "--budget", "smoke", "--out", str(out)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another budget" in err and "--out" in err


def test_speed_writes_the_recipe_and_the_comparison(tmp_path, one_thread):
    out = tmp_path / "speed.json"
    argv = ["--device", "cpu", "--steps", "1", "--repeats", "1", "--size", "32", "--batch-size", "2", "--images", "500"]
    speed.main([*argv, "--width", "0.125", "--cifar-batch-size", "8", "--json", str(out)])
    results = json.loads(out.read_text())
    assert set(results["rows"]) == {"recipe", "step", "ours", "torchvision"}
    recipe = results["rows"]["recipe"]
    assert recipe["images_per_s"] > 0 and recipe["config"]["batch_size"] == 8 and recipe["config"]["width"] == 0.125
    rows = results["rows"]
    assert results["ratio"] == pytest.approx(rows["ours"]["images_per_s"] / rows["torchvision"]["images_per_s"])
    assert 0 < recipe["data_fraction"] < 0.5  # making batches takes time, but not most of a training step's
    assert results["pipeline_images_per_s"] > recipe["images_per_s"]  # the pipeline alone outruns training


def test_ablation_speed_times_both_methods_and_they_agree(tmp_path, one_thread):
    out = tmp_path / "ablation_speed.json"
    ablation_speed.main(["--synthetic", "--images", "20", "40", "--compare", "--json", str(out)])
    results = json.loads(out.read_text())
    assert set(results["runs"]) == {"outputs_20", "hooked_20", "outputs_40", "hooked_40"}  # the two agreed (asserted)
    for run in results["runs"].values():
        assert run["wall_s"] >= 0 and run["cpu_s"] >= 0 and run["load_average_1min"] >= 0
    assert results["runs"]["outputs_20"]["max_standard_error_points"] > 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_gpu_check_without_cuda_exits_2_with_one_line(capsys):
    assert gpu_check.main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no CUDA GPU" in err and "--cpu-smoke" in err
    # Its CPU smoke mode, and a forced failure: tests/test_gpu_paths.py.


def test_gpu_table_in_the_readme_is_rendered_from_the_results_file(tmp_path):
    """tools/readme_numbers.py renders the README's GPU table from benchmarks/results/gpu_check.json (make readme),
    and its --check, which the tests run, fails when the two differ."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert gpu_table.render_table(gpu_table.load_results(ROOT)) in readme, "run: make readme"
    block = readme[readme.index(gpu_table.START) : readme.index(gpu_table.END) + len(gpu_table.END)]
    (tmp_path / "README.md").write_text(f"# GPU\n\n{block}\n", encoding="utf-8")
    assert readme_numbers.main(["--check", "--root", str(tmp_path)]) == 0  # no results file: every item unmeasured
    items = [dict(name=name, verdict="PASS", summary=f"{name} measured", values={}) for name in gpu_table.ITEMS]
    items[3] = dict(name="gradient scaler", verdict="FAIL", summary="fused SGD left non-finite weights", values={})
    results = dict(measured="2026-11-26", device="cuda: Tesla T4", torch="2.14.1", verdict="FAIL", items=items)
    results["data"] = "CIFAR-10 images from cifar10-jpeg: 50,000 train / 10,000 test"
    (tmp_path / gpu_table.RESULTS).parent.mkdir(parents=True)
    (tmp_path / gpu_table.RESULTS).write_text(json.dumps(results))
    assert readme_numbers.main(["--check", "--root", str(tmp_path)]) == 1
    assert readme_numbers.main(["--root", str(tmp_path)]) == 0
    table = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "GPU check (FAIL), measured by `make gpu-check` on 2026-11-26: cuda: Tesla T4" in table
    assert "50,000 train / 10,000 test" in table and "unmeasured" not in table
    assert "| gradient scaler | " in table and "| **FAIL**: fused SGD left non-finite weights |" in table
    assert readme_numbers.main(["--check", "--root", str(tmp_path)]) == 0


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 CPU cores")
def test_threads_adds_the_speeds_of_two_runs_side_by_side(monkeypatch):
    one = threads.measure("ablation", "one_run_1_thread", steps=1)
    two = threads.measure("ablation", "two_runs_1_thread", steps=1)
    assert one > 0 and two > 1.2 * one  # two processes on two cores: more images/s in all than one


def test_the_first_epoch_check_parses_the_stored_command_as_the_command_line_does(tmp_path):
    from tools import reproduce_first_epoch

    command = "python -m gooknet_helpers.train --data d --width 0.25 --aux --epochs 40 --out runs/r --resume"
    args = reproduce_first_epoch.stored_args(command, str(tmp_path))
    assert (args.width, args.aux_logits, args.epochs, args.out, args.resume) == (0.25, True, 40, str(tmp_path), False)
    with pytest.raises(reproduce_first_epoch.GooknetError, match="does not start with"):
        reproduce_first_epoch.stored_args("python train.py --epochs 1", str(tmp_path))
