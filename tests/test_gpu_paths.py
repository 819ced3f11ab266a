"""The GPU's code paths, run on the CPU wherever they can run there.

- fp16 autocast with an enabled gradient scaler and fused SGD (a T4's path): overflowing first steps must leave
  the weights finite and match foreach SGD (fused SGD used to keep uninitialised momentum after a skipped step);
- fp16 and bf16 training steps, aux heads on and off, with fused SGD: no read-back of a tensor's value in any
  training step after a warm-up epoch (on a GPU each would make the CPU wait; test_cuda_sync.py checks the GPU);
- notebook 04's live branch (a GPU's full recipe and live experiments) at a tiny size, forced by GOOKNET_FORCE_LIVE;
- the GPU check's own PASS/FAIL logic (`benchmarks/gpu_check.py --cpu-smoke`), and its refusal of a subset.

torch.compile is not run here: compiling GoogLeNet's training step took 220 s on the 2-core CPU these tests were
written on, far over their budget; the GPU check and README ("torch.compile") cover it.
"""

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gooknet_helpers import train as train_cli
from gooknet_helpers import training
from gooknet_helpers.checkpoints import load_model
from gooknet_helpers.config import TrainConfig, build_model, make_optimizer
from gooknet_helpers.data import ImageData, batches, synthetic_data
from gooknet_helpers.training import fit, train_step

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import gpu_check

FP16 = TrainConfig(width=0.125, batch_size=16, lr=0.05, amp="fp16", track_grads=())
DATA = synthetic_data(train_per_class=16, test_per_class=2)  # 160 images: 10 steps of 16


def fp16_steps(fused: bool, steps: int = 10, init_scale: float = 2.0**20) -> tuple[list[float], dict, dict]:
    """`steps` fp16 training steps with the project's train_step and a gradient scaler whose initial scale is far
    too large, so that the first steps overflow and are skipped. Returns the scale after each step, the parameters
    after the first step, and the parameters at the end."""
    model = build_model(FP16)
    optimizer = make_optimizer(model, FP16, fused=fused)
    assert bool(optimizer.defaults["fused"]) == fused
    scaler = torch.amp.GradScaler("cpu", init_scale=init_scale)
    assert scaler.is_enabled()
    loader = batches(DATA.train_images, DATA.train_labels, 16, train=True, generator=torch.Generator().manual_seed(0))
    scales, first = [], {}
    for i in range(steps):
        train_step(model, optimizer, scaler, *next(loader), FP16.lr, FP16, [])
        scales.append(scaler.get_scale())
        if i == 0:
            first = {k: v.detach().clone() for k, v in model.named_parameters()}
    return scales, first, {k: v.detach().clone() for k, v in model.named_parameters()}


def test_fp16_fused_sgd_survives_overflowing_first_steps_and_matches_foreach(one_thread):
    initial = dict(build_model(FP16).named_parameters())
    scales, first, fused = fp16_steps(fused=True)
    foreach_scales, _, foreach = fp16_steps(fused=False)
    assert all(torch.isfinite(p).all() for p in fused.values()), "fused SGD made NaN or infinite weights"
    assert scales[0] == 2.0**19 and scales == foreach_scales  # the same steps overflowed and were skipped
    assert scales[-1] == scales[-2], "no step went through: lower init_scale"
    assert all(torch.equal(initial[k], first[k]) for k in initial)  # a skipped step moves no weight
    for name, p in fused.items():
        assert torch.allclose(p, foreach[name], rtol=1e-4, atol=1e-5), name


def test_uninitialised_momentum_never_reaches_the_weights(monkeypatch, one_thread):
    """What `empty_like` returns is whatever the memory held; here it is made NaN, so that a buffer created at a
    skipped first step and then used as momentum would turn the weights into NaN every time."""
    real = torch.empty_like
    monkeypatch.setattr(torch, "empty_like", lambda t, **kw: real(t, **kw).fill_(float("nan")))
    scales, _, params = fp16_steps(fused=True, steps=8)
    assert all(torch.isfinite(p).all() for p in params.values()), "fused SGD made NaN or infinite weights"
    assert scales[0] < scales[-1] * 2**6, "no step went through: lower init_scale"


@pytest.mark.parametrize("amp", ["fp16", "bf16"])
@pytest.mark.parametrize("aux", [False, True], ids=["aux off", "aux on"])
def test_training_steps_read_nothing_back_after_a_warm_up_epoch(amp, aux, tmp_path, one_thread):
    """`fit` with fp16 (gradient scaler on) or bf16 autocast and fused SGD, as on a GPU: after the first epoch,
    every training step runs under a guard that raises on any read of a tensor's value into Python."""
    data = synthetic_data(train_per_class=3, test_per_class=1)  # 30 images: 3 steps of 10
    config = TrainConfig(epochs=3, width=0.125, batch_size=10, amp=amp, aux_logits=aux)
    train_epoch, strict_steps = gpu_check.strict_after_first(torch.device("cpu"), fit.__globals__["train_epoch"])
    fused = functools.partial(make_optimizer, fused=True)
    with gpu_check.replaced(fit, "train_epoch", train_epoch), gpu_check.replaced(fit, "make_optimizer", fused):
        history = fit(build_model(config), data, config, checkpoint=tmp_path / "checkpoint.pt", progress=False)
    assert strict_steps == [3, 3] and history["step"] == [3, 6, 9]
    assert all(torch.isfinite(torch.tensor(history["train_loss"])))
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["optimizer"]["param_groups"][0]["fused"]
    assert ("scale" in state["scaler"]) == (amp == "fp16")  # the scaler is enabled for fp16 only


def test_the_read_back_guard_catches_a_sync(monkeypatch, one_thread):
    real = fit.__globals__["train_step"]

    def reads_the_loss(*args, **kwargs):
        sums, norms = real(*args, **kwargs)[:2]
        sums[0].item()  # what a per-step progress display would do
        return sums, norms

    monkeypatch.setitem(fit.__globals__, "train_step", reads_the_loss)
    train_epoch, _ = gpu_check.strict_after_first(torch.device("cpu"), fit.__globals__["train_epoch"])
    monkeypatch.setitem(fit.__globals__, "train_epoch", train_epoch)
    config = TrainConfig(epochs=2, width=0.125, batch_size=10, track_grads=())
    with pytest.raises(RuntimeError, match=r"read-back \(item\)"):
        fit(build_model(config), synthetic_data(train_per_class=2, test_per_class=1), config, progress=False)


# ---- notebook 04's live branch ----

NOTEBOOK_04 = ROOT / "notebooks" / "04_training_cifar10.ipynb"
# The cells that decide or use `live`, and those they need: imports, data, budget, training, summary, the model
# studied, the ablation arms.
LIVE_CELLS = ("66bab706", "461fdebc", "450b5cd7", "bd42f199", "b8fb4438", "5a2fdac1", "daef9be3")


def test_notebook_04_live_branch_runs_at_a_tiny_size(monkeypatch, tmp_path, one_thread):
    """On a GPU notebook 04 trains the full recipe, studies that model and re-runs the ablation arms live; no CPU
    run takes that branch by itself. GOOKNET_FORCE_LIVE=1 with smoke mode on takes it at smoke mode's budgets."""
    cells = {c["id"]: "".join(c["source"]) for c in json.loads(NOTEBOOK_04.read_text())["cells"]}
    missing = [i for i in LIVE_CELLS if i not in cells]
    assert not missing, f"notebook 04 lost cells {missing}: update LIVE_CELLS"
    # Without smoke mode's budget there the live ablation cell would train the GPU budget here, for hours.
    assert '"smoke" if smoke() else "gpu"' in cells["daef9be3"], "notebook 04's live ablations ignore smoke mode"
    monkeypatch.setenv("GOOKNET_SMOKE", "1")
    monkeypatch.setenv("GOOKNET_FORCE_LIVE", "1")
    monkeypatch.chdir(tmp_path)  # the notebook writes runs/04_training here
    namespace: dict = {}
    for cell_id in LIVE_CELLS:
        source = "\n".join(line for line in cells[cell_id].splitlines() if not line.startswith("%"))
        exec(compile(source, f"notebook 04, cell {cell_id}", "exec"), namespace)
    assert namespace["live"]
    assert namespace["studied"] is namespace["model"]  # the model trained above, not the shipped reference
    assert namespace["ablation"]["budget"]["name"] == "smoke"  # the arms ran now, at smoke mode's budget
    assert len(namespace["runs"]) == 3 * namespace["ablation"]["budget"]["seeds"]
    assert (tmp_path / "runs" / "04_training" / "checkpoint.pt").exists()


# ---- benchmarks/gpu_check.py ----


def test_gpu_check_cpu_smoke_passes_every_item(tmp_path, one_thread):
    out = tmp_path / "gpu_check.json"
    assert gpu_check.main(["--cpu-smoke", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["mode"] == "cpu-smoke" and results["device"].startswith("cpu") and results["verdict"] == "PASS"
    verdicts = {item["name"]: item["verdict"] for item in results["items"]}
    assert list(verdicts) == list(gpu_check.gpu_table.ITEMS)  # every item, in the table's order
    for name in ("dtype and fused SGD", "syncs per step", "gradient scaler", "resume", "real-data run", "budget"):
        assert verdicts[name] == "PASS", name
    assert verdicts["DDP"] == verdicts["peak memory"] == verdicts["data"] == verdicts["torch.compile"] == "SKIP"
    resume = next(item for item in results["items"] if item["name"] == "resume")
    assert resume["values"]["resume_gap"] == resume["values"]["straight_gap"] == 0  # bitwise on the CPU
    assert "unmeasured" not in gpu_check.gpu_table.render_table(results)


def test_gpu_check_fails_and_exits_1_when_an_item_fails(monkeypatch, capsys, one_thread):
    """Two real failures: fused SGD's uninitialised momentum after a skipped first step (the momentum buffers made
    lazily again, their memory NaN), and a per-step read-back of the loss."""
    real_optimizer, real_empty, real_step = gpu_check.make_optimizer, torch.empty_like, fit.__globals__["train_step"]

    def lazy_momentum(*args, **kwargs):
        optimizer = real_optimizer(*args, **kwargs)
        optimizer.state.clear()
        return optimizer

    def reads_the_loss(*args, **kwargs):
        got = real_step(*args, **kwargs)
        got[0][0].item()
        return got

    monkeypatch.setattr(gpu_check, "make_optimizer", lazy_momentum)
    monkeypatch.setattr(torch, "empty_like", lambda t, **kw: real_empty(t, **kw).fill_(float("nan")))
    monkeypatch.setitem(fit.__globals__, "train_step", reads_the_loss)
    assert gpu_check.main(["--cpu-smoke", "--only", "scaler,syncs"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  gradient scaler: " in out and "non-finite" in out
    assert "FAIL  syncs per step: fp16, aux off: a read-back (item)" in out
    assert out.strip().splitlines()[-1].startswith("gpu_check: FAIL: syncs per step, gradient scaler")


def test_gpu_check_refuses_anything_but_the_whole_cifar10():
    whole = synthetic_data(train_per_class=1, test_per_class=1)
    subset = ImageData(
        *(t[:5] for t in (whole.train_images, whole.train_labels)),
        whole.test_images,
        whole.test_labels,
        whole.classes,
        "CIFAR-10 subset",
        "cifar10-jpeg-subset",
    )
    for data in (whole, subset):
        with pytest.raises(gpu_check.CannotRun, match="needs the whole CIFAR-10"):
            gpu_check.check_full_cifar(data)


# ---- divergence, and the batches' memory order ----


def test_a_diverged_run_stops_with_one_line_and_keeps_the_last_good_checkpoint(tmp_path, one_thread):
    data = synthetic_data(train_per_class=3, test_per_class=1)  # 3 steps of 10 per epoch
    config = TrainConfig(epochs=3, width=0.125, batch_size=10, lr=0.2, track_grads=())
    path = tmp_path / "checkpoint.pt"

    def nan_lr_from_epoch_2(history: dict) -> None:
        config.lr = float("nan")  # the checkpoint of epoch 1 is already written

    with pytest.raises(training.DivergedError) as error:
        fit(build_model(config), data, config, checkpoint=path, on_epoch=nan_lr_from_epoch_2, progress=False)
    message = str(error.value)
    assert "\n" not in message and "diverged in epoch 2 (by step 6)" in message
    assert "weights are no longer finite" in message and f"{path} keeps epoch 1" in message and "--lr" in message
    model, _ = load_model(path)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_a_loss_that_stays_nan_stops_the_run_even_when_the_scaler_keeps_the_weights(monkeypatch, one_thread):
    """fp16 with the gradient scaler: a NaN loss gives NaN gradients, the scaler skips every step, the weights stay
    finite; a loss that is NaN at every step of an epoch still stops the run."""
    real = fit.__globals__["googlenet_loss"]
    monkeypatch.setitem(fit.__globals__, "googlenet_loss", lambda *args: real(*args) * float("nan"))
    config = TrainConfig(epochs=2, width=0.125, batch_size=10, amp="fp16", track_grads=())
    with pytest.raises(training.DivergedError, match="loss was NaN or infinite at every one of its 3 steps"):
        fit(build_model(config), synthetic_data(train_per_class=3, test_per_class=1), config, progress=False)


def test_command_line_divergence_fails_with_one_line(tmp_path, capsys, one_thread):
    argv = ["--synthetic", "--device", "cpu", "--no-progress", "--out", str(tmp_path), "--width", "0.125"]
    assert train_cli.main([*argv, "--epochs", "1", "--batch-size", "100", "--lr", "1e6", "--track-grads"]) not in (0, 1)
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: Training diverged in epoch 1") and "Traceback" not in err


def test_channels_last_false_gives_plain_nchw_batches(one_thread):
    data = synthetic_data(train_per_class=2, test_per_class=1)

    def first_batch(**kwargs) -> torch.Tensor:
        g = torch.Generator().manual_seed(0)
        return next(batches(data.train_images, data.train_labels, 10, train=True, generator=g, **kwargs))[0]

    nhwc, nchw = first_batch(), first_batch(memory_format=torch.contiguous_format)
    assert nhwc.is_contiguous(memory_format=torch.channels_last) and not nhwc.is_contiguous()
    assert nchw.is_contiguous() and torch.equal(nhwc, nchw)  # the same values, another order in memory
    for channels_last in (True, False):
        config = TrainConfig(epochs=1, width=0.125, batch_size=10, channels_last=channels_last, track_grads=())
        model, layouts = build_model(config), []
        model.register_forward_pre_hook(lambda module, args, seen=layouts: seen.append(args[0].is_contiguous()))
        fit(model, data, config, progress=False)  # 2 training steps, then the evaluation batch
        assert layouts == [not channels_last] * 3


# ---- several processes: Ctrl-C ----


@pytest.mark.skipif(not torch.distributed.is_available(), reason="this torch build has no torch.distributed")
def test_ctrl_c_under_the_launcher_ends_every_process_with_one_line_and_status_130(tmp_path):
    """`--nproc-per-node 2` (torchrun's launcher inside the command; CPU processes here, gloo): a terminal's Ctrl-C
    reaches the whole process group; one line says where the checkpoint is, the status is 130, no traceback, and
    `--resume` completes the run."""
    command = [sys.executable, "-m", "gooknet_helpers.train", "--nproc-per-node", "2", "--synthetic", "--device"]
    command += ["cpu", "--no-progress", "--out", str(tmp_path), "--width", "0.125", "--epochs", "3"]
    command += ["--batch-size", "50", "--lr", "0.2", "--track-grads"]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    deadline = time.monotonic() + 240  # generous: the machine may be busy
    while not (tmp_path / "checkpoint.pt").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground process group
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.count("Stopped by Ctrl-C") == 1, stderr
    assert "--resume" in stderr.strip().splitlines()[-1]
    result = subprocess.run([*command, "--resume"], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "metrics.json").read_text())["history"]["epoch"] == [1, 2, 3]
