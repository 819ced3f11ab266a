"""Issue 18's probes, as tests: bad values, odd data and two runs at once give one clear line, lose nothing and are
never silently wrong. Table-driven where a row is one call; the validation rows train nothing."""

import errno
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gooknet_helpers import InceptionAux, NaiveInception, answer_checks, files, reference_model
from gooknet_helpers import train as train_module
from gooknet_helpers.analysis import ablate_branches, blank_top, branch_energy, deletion_check, grad_cam, read_out
from gooknet_helpers.checkpoints import CheckpointError, load_model, read_checkpoint
from gooknet_helpers.config import ConfigError, TrainConfig, build_model
from gooknet_helpers.data import DataMismatchError, DataUnavailableError, load_folder, normalize, synthetic_data
from gooknet_helpers.files import OutputInUseError, RunLock, WriteError, atomic_write, write_json
from gooknet_helpers.module_checks import check_module
from gooknet_helpers.network import CIFAR, GoogLeNet
from gooknet_helpers.reference import WeightsError, load_weights
from gooknet_helpers.runtime import DeviceError, GooknetError, pick_device
from gooknet_helpers.training import fit

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py
ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
QUICK = ["--synthetic", "--device", "cpu", "--no-progress", "--width", "0.125", "--batch-size", "100", "--track-grads"]


def one_line(text: str) -> str:
    """The text, asserted to be one line without a traceback."""
    text = text.strip()
    assert "\n" not in text and "Traceback" not in text, text
    return text


# ---- Validation in one place: before any data is loaded or any step is trained ----

BAD_OPTIONS = [
    (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--lr", "-1"], "--lr"),
    (["--momentum", "nan"], "--momentum"),
    (["--momentum", "0"], "--momentum"),
    (["--aux-weight", "nan"], "--aux-weight"),
    (["--weight-decay", "-1"], "--weight-decay"),
    (["--max-steps", "0"], "--max-steps"),
    (["--max-steps", "-1"], "--max-steps"),
    (["--warmup", "5"], "--warmup"),
    (["--warmup", "1.5"], "--warmup"),
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "-3"], "--epochs"),
    (["--batch-size", "0"], "--batch-size"),
    (["--batch-size", "-10"], "--batch-size"),
    (["--width", "0"], "--width"),
    (["--width", "-1"], "--width"),
    (["--width", "nan"], "--width"),
    (["--channel-multiple", "0"], "--channel-multiple"),
    (["--label-smoothing", "2"], "--label-smoothing"),
    (["--seed", "-1"], "--seed"),
    (["--eval-batch-size", "0"], "--eval-batch-size"),
    (["--track-grads", "nosuch"], "--track-grads"),
    (["--device", "bogus"], "--device"),
    (["--out", "/proc/version"], "--out"),
    (["--out", "/proc"], "--out"),
]
if not torch.cuda.is_available():
    BAD_OPTIONS.append((["--device", "cuda"], "--device"))


@pytest.fixture
def no_data_loaded(monkeypatch):
    """Fail the test if the command line gets as far as loading data."""

    def load(*args, **kwargs):
        raise AssertionError("data was loaded before the options were checked")

    monkeypatch.setattr(train_module, "load_training_data", load)


@pytest.mark.parametrize(("options", "named"), BAD_OPTIONS, ids=[" ".join(o) for o, _ in BAD_OPTIONS])
def test_a_bad_option_is_one_line_and_exit_2_before_any_data(options, named, tmp_path, capsys, no_data_loaded):
    status = train_module.main(["--synthetic", "--no-progress", "--out", str(tmp_path / "run"), *options])
    err = one_line(capsys.readouterr().err)
    assert status == 2 and err.startswith("error: ") and named in err and options[-1] in err


@pytest.mark.parametrize("how", ["a file", "cannot be written"])
def test_an_out_that_cannot_hold_files_is_refused_before_any_data(how, tmp_path, capsys, monkeypatch, no_data_loaded):
    out = tmp_path / "out"
    if how == "a file":
        out.write_text("I am a file")
    else:  # a read-only folder (as root, permissions do not stop writes: simulate what the kernel says)

        def read_only(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    assert train_module.main(["--synthetic", "--out", str(out)]) == 2
    err = one_line(capsys.readouterr().err)
    assert "--out" in err and ("is a file" in err if how == "a file" else "Permission denied" in err)


BAD_SETTINGS = [
    ("epochs", 0),
    ("epochs", 2.5),
    ("batch_size", 0),
    ("lr", float("nan")),
    ("lr", 0),
    ("momentum", 0.0),
    ("momentum", 1.0),
    ("weight_decay", -1e-4),
    ("weight_decay", float("inf")),
    ("label_smoothing", 1.0),
    ("width", float("nan")),
    ("channel_multiple", 0),
    ("warmup", 1.0),
    ("warmup", -0.1),
    ("aux_weight", float("nan")),
    ("seed", -1),
    ("max_steps", 0),
    ("eval_batch_size", 0),
    ("block", "resnet"),
    ("amp", "fp8"),
    ("aux_logits", "yes"),
    ("track_grads", (1, 2)),
]


@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS, ids=[f"{n}={v!r}" for n, v in BAD_SETTINGS])
def test_train_config_refuses_a_bad_value_where_it_is_made(name, value):
    with pytest.raises(ConfigError) as error:
        TrainConfig(**{name: value})
    message = one_line(str(error.value))
    assert name in message and repr(value) in message and "must be" in message
    assert isinstance(error.value, GooknetError) and isinstance(error.value, ValueError)


def test_good_values_at_the_edges_are_accepted_and_max_steps_limits():
    TrainConfig(momentum=0.5, warmup=0.0, label_smoothing=0.0, weight_decay=0.0, aux_weight=0.0, seed=0, max_steps=1)
    assert TrainConfig(track_grads=["conv1"]).track_grads == ("conv1",)  # a list from JSON becomes a tuple
    assert TrainConfig(epochs=2, max_steps=1).total_steps(1000) == 1 and TrainConfig(epochs=2).total_steps(1000) == 2


def test_fit_refuses_a_tracked_module_the_model_lacks_before_training(tmp_path):
    config = TrainConfig(epochs=1, width=0.125, batch_size=50, track_grads=("conv1", "nosuch"))
    with pytest.raises(ConfigError, match="'nosuch' is not a module of this model.*inception3a"):
        fit(build_model(config), synthetic_data(5, 1), config, checkpoint=tmp_path / "c.pt", progress=False)
    assert not (tmp_path / "c.pt").exists()


@pytest.mark.parametrize("device", ["bogus", "cuda:99", "meta", 3])
def test_a_device_this_machine_lacks_is_one_line(device):
    with pytest.raises(DeviceError) as error:
        pick_device(device)
    one_line(str(error.value))
    with pytest.raises(DeviceError):
        reference_model(device=device)


def test_ctrl_c_while_importing_exits_130_without_a_traceback(tmp_path):
    """SIGINT while `python -m gooknet_helpers.train` is still importing PyTorch (seen in /proc/PID/maps)."""
    if not Path("/proc/self/maps").exists():
        pytest.skip("needs /proc to see when PyTorch is being loaded")
    command = [sys.executable, "-m", "gooknet_helpers.train", *QUICK, "--epochs", "1", "--out", str(tmp_path)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, preexec_fn=ctrl_c_as_in_a_terminal
    )
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if "torch" in Path(f"/proc/{process.pid}/maps").read_text():
                break
        except OSError:
            pass
        time.sleep(0.002)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "Stopped by Ctrl-C" in one_line(stderr)


def ctrl_c_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# ---- Divergence, and NaN in result files ----


def test_lr_1e6_stops_with_a_divergence_message_and_exit_3(tmp_path, capsys):
    status = train_module.main([*QUICK, "--out", str(tmp_path), "--epochs", "2", "--lr", "1e6"])
    err = one_line(capsys.readouterr().err)
    assert status == 3 and "diverged in epoch 1" in err and "--lr" in err
    assert not (tmp_path / "checkpoint.pt").exists() and not (tmp_path / "metrics.json").exists()


def test_json_results_never_hold_a_bare_nan(tmp_path):
    path = write_json({"loss": [1.0, float("nan"), float("inf")], "acc": 0.5}, tmp_path / "metrics.json")
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c}")) == {
        "loss": [1.0, None, None],
        "acc": 0.5,
    }


# ---- Nothing lost: unique temporary files, atomic results, a full disk, two runs on one --out ----


def test_two_writers_of_one_file_never_share_a_temporary_file(tmp_path):
    path = tmp_path / "result.json"

    def outer(file):
        file.write(b"outer")
        atomic_write(path, lambda inner: inner.write(b"inner"))  # a second writer, while the first is writing

    atomic_write(path, outer)
    assert path.read_bytes() == b"outer" and [p.name for p in tmp_path.iterdir()] == ["result.json"]


@pytest.fixture
def full_disk(monkeypatch):
    """Every flush to disk fails as a full disk does; undo with .undo()."""

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    return lambda: monkeypatch.setattr(files.os, "fsync", no_space)


def test_a_full_disk_is_one_line_and_keeps_the_previous_file(tmp_path, full_disk):
    path = write_json({"epoch": 1}, tmp_path / "metrics.json")
    full_disk()
    with pytest.raises(WriteError) as error:
        write_json({"epoch": 2}, path)
    assert "No space left on device" in one_line(str(error.value)) and "previous version is kept" in str(error.value)
    assert isinstance(error.value, OSError) and json.loads(path.read_text()) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temporary file left


def test_command_line_on_a_full_disk_is_exit_2_and_leaves_the_last_good_files(tmp_path, capsys, full_disk):
    run = [*QUICK, "--out", str(tmp_path), "--epochs", "1", "--max-steps", "2"]
    assert train_module.main(run) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.name.startswith(".")}
    full_disk()
    capsys.readouterr()
    assert train_module.main(run) == 2
    err = one_line(capsys.readouterr().err)
    assert "No space left on device" in err and "checkpoint.pt" in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.name.startswith(".")} == before
    load_model(tmp_path / "checkpoint.pt")


HOLD_LOCK = textwrap.dedent(
    """
    import fcntl, os, sys, time
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, str(os.getpid()).encode())
    print("locked", flush=True)
    time.sleep(300)
    """
)


@pytest.fixture
def other_run(tmp_path):
    """Another process holding the lock of tmp_path/checkpoint.pt, as a run on that --out does."""
    lock = tmp_path / ".checkpoint.pt.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    yield holder
    holder.kill()
    holder.wait()


def test_a_second_run_on_an_out_in_use_refuses_with_one_line(tmp_path, capsys, other_run, no_data_loaded):
    assert train_module.main([*QUICK, "--out", str(tmp_path)]) == 2
    err = one_line(capsys.readouterr().err)
    assert "in use by another training run" in err and f"process {other_run.pid}" in err and "--out" in err
    config = TrainConfig(epochs=1, width=0.125, batch_size=50, track_grads=())
    with pytest.raises(OutputInUseError):  # a notebook's fit on the same checkpoint too
        fit(build_model(config), synthetic_data(5, 1), config, checkpoint=tmp_path / "checkpoint.pt", progress=False)
    other_run.kill()  # a run that crashes: the operating system releases its lock
    other_run.wait()
    with RunLock(tmp_path / "checkpoint.pt"), RunLock(tmp_path / "checkpoint.pt"):  # free now; re-entrant
        pass


# ---- Data that does not match is refused ----


def image_folder(root: Path, train: tuple[str, ...], test: tuple[str, ...], empty: str = "") -> Path:
    for split, classes in (("train", train), ("test", test)):
        for name in classes:
            (root / split / name).mkdir(parents=True)
            if f"{split}/{name}" != empty:
                Image.new("RGB", (32, 32), (9, 9, 9)).save(root / split / name / "0.png")
    return root


MISMATCHES = [
    (("cat", "dog"), ("cat", "wolf"), "", "only in train/: dog; only in test/: wolf"),  # renamed
    (("cat", "dog"), ("cat",), "", "only in train/: dog"),  # missing
    (("cat", "dog"), ("cat", "dog", "cow"), "", "only in test/: cow"),  # extra
    (("cat", "dog"), ("cat", "dog"), "train/dog", "train/dog holds no .jpg or .png images"),  # an empty class
    (("cat", "dog"), ("cat", "dog"), "test/cat", "test/cat holds no .jpg or .png images"),
]


@pytest.mark.parametrize(("train", "test", "empty", "message"), MISMATCHES)
def test_folders_that_are_not_one_problem_are_refused(train, test, empty, message, tmp_path):
    with pytest.raises(DataMismatchError) as error:
        load_folder(image_folder(tmp_path, train, test, empty))
    assert message in one_line(str(error.value))


def test_hidden_folders_are_not_classes(tmp_path):
    folder = image_folder(tmp_path, ("cat", "dog"), ("cat", "dog"))
    (folder / "train" / ".ipynb_checkpoints").mkdir()
    assert load_folder(folder).classes == ("cat", "dog")


def test_a_16_bit_png_is_converted_to_8_bits_and_said(tmp_path, capsys):
    folder = image_folder(tmp_path, ("cat", "dog"), ("cat", "dog"))
    values = np.full((32, 32), 32896, dtype=np.uint16)  # 128 * 257: mid grey
    Image.fromarray(values).save(folder / "train" / "dog" / "0.png")
    data = load_folder(folder)
    assert data.train_images[1].unique().tolist() == [128]  # not clipped to white
    out = capsys.readouterr().out
    assert "1 16-bit image(s) converted to 8 bits" in one_line(out) and "0.png" in out


@pytest.mark.parametrize("pixels", [1600, 10_000])  # over the limit (PIL warns), over twice it (PIL refuses)
def test_a_huge_image_is_one_line(pixels, tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1100)  # so that "huge" needs no 400-megapixel file (32x32 is 1,024)
    folder = image_folder(tmp_path, ("cat", "dog"), ("cat", "dog"))
    side = int(math.sqrt(pixels))
    Image.new("RGB", (side, side)).save(folder / "test" / "cat" / "0.png")
    with pytest.raises(DataUnavailableError) as error:
        load_folder(folder)
    assert "too large" in one_line(str(error.value)) and "0.png" in str(error.value)


def test_resuming_on_other_data_says_so(tmp_path):
    config = TrainConfig(epochs=2, width=0.125, batch_size=50, track_grads=())
    path = tmp_path / "checkpoint.pt"

    def stop(history):
        raise KeyboardInterrupt

    fit(build_model(config), synthetic_data(10, 2), config, checkpoint=path, on_epoch=stop, progress=False)
    record = read_checkpoint(path)["data"]
    assert record["classes"][0] == "synthetic-0" and (record["train"], record["test"]) == (100, 20)
    with pytest.raises(CheckpointError) as error:
        fit(build_model(config), synthetic_data(20, 2), config, checkpoint=path, resume=True, progress=False)
    message = one_line(str(error.value))
    assert "trained on other data" in message and "100 train images in the checkpoint, 200 now" in message


# ---- Integrity: a checksum over the tensors; no advice to load with weights_only=False ----


def test_a_flipped_byte_in_a_checkpoint_is_detected(tmp_path):
    config = TrainConfig(epochs=1, width=0.125, batch_size=50, track_grads=())
    path = tmp_path / "checkpoint.pt"
    fit(build_model(config), synthetic_data(5, 1), config, checkpoint=path, progress=False)
    weights = read_checkpoint(path)["model"]["fc.weight"].numpy().tobytes()
    raw = bytearray(path.read_bytes())
    at = raw.find(weights[:64])
    assert at > 0
    raw[at + 8 : at + 108] = bytes(b ^ 0xFF for b in raw[at + 8 : at + 108])  # 100 bytes inside the weights
    path.write_bytes(raw)
    with pytest.raises(CheckpointError, match="damaged: its tensors no longer match the checksum") as error:
        load_model(path)
    one_line(str(error.value))


class Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.parametrize("kind", ["lfs pointer", "truncated", "garbage", "pickled code", "folder"])
def test_bad_weights_files_are_one_line_without_risky_advice(kind, tmp_path):
    path = tmp_path / "weights.pt"
    shipped = Path(__file__).parents[1] / "gooknet_helpers" / "reference" / "googlenet_cifar10.pt"
    if kind == "lfs pointer":
        path.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 2786907\n")
    elif kind == "truncated":
        path.write_bytes(shipped.read_bytes()[:100_000])
    elif kind == "garbage":
        path.write_text("not weights")
    elif kind == "pickled code":
        torch.save({"model": Evil()}, path)
    else:
        path.mkdir()
    for load, error in ((load_weights, WeightsError), (read_checkpoint, CheckpointError)):
        with pytest.raises(error) as raised:
            load(path)
        message = one_line(str(raised.value))
        assert "weights_only" not in message and "trust" not in message.lower()
        assert "git lfs pull" in message if kind == "lfs pointer" else str(path) in message


# ---- The learner's tools never crash ----

EXERCISES = [
    name for name in dir(answer_checks) if name.startswith("nb0") and hasattr(getattr(answer_checks, name), "check")
]
NOT_NUMBERS = ["nan", "inf", "abc", "", [1], {"a": 1}, True, torch.ones(3), object(), float("nan")]


@pytest.mark.parametrize("name", EXERCISES)
def test_every_checker_reads_strings_and_answers_odd_input_with_a_sentence(name, capsys):
    exercise = getattr(answer_checks, name)
    expected = exercise.expected()
    right = f"{expected:,}" if float(expected).is_integer() else f"{expected:.6g}"
    assert exercise.check(right) is True and exercise.check(str(expected)) is True
    assert (
        exercise.check(np.float64(expected)) is True
        and exercise.check(torch.tensor(expected, dtype=torch.float64)) is True
    )
    capsys.readouterr()
    for answer in NOT_NUMBERS:
        assert exercise.check(answer) is False
        said = one_line(capsys.readouterr().out)
        assert said and "too low" not in said and "too high" not in said, (answer, said)
    assert exercise.check(1, show="no") is False  # a string is not True: the working (the answer) stays hidden
    said = one_line(capsys.readouterr().out)
    assert "show must be True or False" in said and f"{expected:,}"[:6] not in said


def test_notebook_05_checkers_accept_the_right_answer_as_a_string(capsys):
    assert answer_checks.nb05_two_3x3.check("0.28") is True
    assert answer_checks.nb05_smoothing.check("0.9001") is True
    assert answer_checks.nb05_asymmetric.check(f"{answer_checks.nb05_asymmetric.expected():,}") is True


class TupleForward(NaiveInception):
    def forward(self, x):
        return self.branch1(x), self.branch2(x)


class NoneForward(NaiveInception):
    def forward(self, x):
        torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


class DoubleForward(NaiveInception):
    def forward(self, x):
        return super().forward(x).double()


class PairBranch(nn.Module):
    def __init__(self, branch):
        super().__init__()
        self.inner = branch

    def forward(self, x):
        return self.inner(x), x


class TupleBranch(NaiveInception):
    def __init__(self, *args):
        super().__init__(*args)
        self.branch2 = PairBranch(self.branch2)


class RaisesInTraining(InceptionAux):
    def forward(self, x):
        if self.training:
            raise RuntimeError("only eval works here")
        return super().forward(x)


class Forever(NaiveInception):
    def forward(self, x):
        while True:
            x = x + 0


LEARNER_MISTAKES = [
    ("naive", TupleForward, "forward returns a tuple, not a tensor"),
    ("naive", NoneForward, r"forward returns None \(is a `return` missing\?\)"),
    ("naive", DoubleForward, "returns float64 values for a float32 input"),
    ("aux", RaisesInTraining, r"raised RuntimeError in training mode in forward.*only eval works here"),
    ("naive", Forever, r"did not finish within 1 s in forward, line \d+ \(`(while True:|x = x \+ 0)`\)"),
]
TIMEOUTS = {Forever: 1}  # the others finish (or fail) at once, however busy the machine


@pytest.mark.parametrize(("kind", "cls", "message"), LEARNER_MISTAKES, ids=[c.__name__ for _, c, _ in LEARNER_MISTAKES])
def test_check_module_names_what_the_learners_module_did(kind, cls, message):
    started = time.monotonic()
    with pytest.raises(AssertionError, match=message) as error:
        check_module(kind, cls, timeout=TIMEOUTS.get(cls, 20))
    one_line(str(error.value))
    assert time.monotonic() - started < 30 and error.value.__cause__ is None


def test_a_branch_returning_a_tuple_is_named(capsys):
    with pytest.raises(AssertionError, match=r"branch2 \(the 3x3 branch\) returns a tuple"):
        check_module("naive", TupleBranch)


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return GoogLeNet(10, False, **CIFAR, width=0.125).eval()


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (torch.zeros(2, 3, 32, 32, dtype=torch.uint8), "pass normalize"),
        (torch.zeros(2, 3, 32, 32, dtype=torch.float64), r"float64.*images.float\(\)"),
        (np.zeros((2, 3, 32, 32), dtype=np.float32), "torch.from_numpy"),
        ([[0.0]], "torch.Tensor"),
    ],
    ids=["uint8", "float64", "numpy", "list"],
)
def test_the_model_says_what_input_it_takes(images, message, tiny_model):
    with pytest.raises(TypeError, match=message) as error:
        tiny_model(images)
    one_line(str(error.value))


UINT8 = torch.zeros(4, 3, 32, 32, dtype=torch.uint8)
ANALYSES = [
    (lambda m: grad_cam(m, nn.Conv2d(3, 3, 1), normalize(UINT8)), "not a part of this model"),
    (lambda m: grad_cam(m, "nosuch", normalize(UINT8)), "not a part of this model"),
    (lambda m: deletion_check(m, m.inception4e, UINT8, batch_size=0), "batch_size must be a whole number >= 1"),
    (lambda m: blank_top(m, normalize(UINT8), torch.rand(4, 32, 32), torch.zeros(4, dtype=torch.long), -1), "fraction"),
    (lambda m: deletion_check(m, m.inception4e, UINT8[:0]), "needs at least one image"),
    (lambda m: ablate_branches(m, UINT8[:0], torch.zeros(0, dtype=torch.long), progress=False), "at least one image"),
    (lambda m: branch_energy(m, UINT8[:0]), "needs at least one image"),
    (lambda m: read_out(m, UINT8[:0], progress=False), "needs at least one image"),
    (lambda m: read_out(m, normalize(UINT8), progress=False), "standardised twice"),
    (lambda m: grad_cam(m, m.inception4e, normalize(UINT8)[:0]), "needs at least one image"),
]


@pytest.mark.parametrize(("call", "message"), ANALYSES)
def test_analysis_helpers_refuse_bad_arguments_in_one_sentence(call, message, tiny_model):
    with pytest.raises((ValueError, TypeError), match=message) as error:
        call(tiny_model)
    one_line(str(error.value))
