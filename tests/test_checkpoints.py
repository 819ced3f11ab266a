"""Checkpoints: written atomically, read with one clear message when damaged or written under other settings, and
compatible with the files written before per-rank random states were stored."""

import pytest
import torch

from gooknet_helpers.checkpoints import CheckpointError, atomic_save, load_model, read_checkpoint
from gooknet_helpers.config import TrainConfig, build_model
from gooknet_helpers.data import synthetic_data
from gooknet_helpers.stopping import stop_after_first_epoch
from gooknet_helpers.training import fit

CONFIG = TrainConfig(epochs=2, width=0.125, batch_size=50, lr=0.2, track_grads=())
DATA = synthetic_data(train_per_class=10, test_per_class=2)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture
def first_epoch(tmp_path):
    """A checkpoint of CONFIG's first epoch (the run stopped there)."""
    path = tmp_path / "checkpoint.pt"
    fit(build_model(CONFIG), DATA, CONFIG, checkpoint=path, on_epoch=stop_after_first_epoch, progress=False)
    return path


def test_a_save_that_dies_half_way_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    real_save = torch.save

    def dies_half_way(obj, file):
        real_save(obj, file)
        file.truncate(file.tell() // 2)  # half the bytes on disk, then the disk is full (or the process dies)
        raise OSError(28, "No space left on device")

    path = tmp_path / "checkpoint.pt"
    model = build_model(CONFIG)
    saves = []

    def on_epoch(history):  # after the first epoch's checkpoint, every save dies half-way
        saves.append(history["epoch"][-1])
        monkeypatch.setattr(torch, "save", dies_half_way)

    with pytest.raises(OSError, match="No space left"):
        fit(model, DATA, CONFIG, checkpoint=path, on_epoch=on_epoch, progress=False)
    monkeypatch.undo()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert saves == [1] and names == [".checkpoint.pt.lock", "checkpoint.pt"]  # no temporary file left
    assert read_checkpoint(path)["epoch"] == 1
    load_model(path)


def test_atomic_save_replaces_the_file_whole(tmp_path):
    path = tmp_path / "sub" / "state.pt"
    atomic_save({"x": torch.ones(2)}, path)
    atomic_save({"x": torch.zeros(2)}, path)
    assert (
        torch.equal(torch.load(path, weights_only=True)["x"], torch.zeros(2)) and len(list(path.parent.iterdir())) == 1
    )


@pytest.mark.parametrize("damage", ["truncate", "garbage", "foreign", "missing"])
def test_a_damaged_checkpoint_is_one_clear_message(damage, first_epoch):
    if damage == "truncate":
        first_epoch.write_bytes(first_epoch.read_bytes()[:5000])
    elif damage == "garbage":
        first_epoch.write_text("not a checkpoint")
    elif damage == "foreign":
        torch.save({"weights": torch.ones(1)}, first_epoch)  # a loadable file, but not fit's
    else:
        first_epoch.unlink()
    with pytest.raises(CheckpointError) as error:
        load_model(first_epoch)
    message = str(error.value)
    assert str(first_epoch) in message and error.value.__cause__ is None  # no chained traceback of the zip reader
    assert error.value.__suppress_context__ or error.value.__context__ is None
    assert ("delete" in message and "--out" in message) or damage == "missing"
    assert error.value._render_traceback_() == [f"CheckpointError: {message}"]  # Jupyter shows the message alone
    if damage != "missing":
        with pytest.raises(CheckpointError, match="delete"):
            fit(build_model(CONFIG), DATA, CONFIG, checkpoint=first_epoch, resume=True, progress=False)


def test_resume_under_other_settings_names_them(first_epoch):
    other = TrainConfig(**{**CONFIG.__dict__, "lr": 0.1, "width": 0.25})
    with pytest.raises(CheckpointError) as error:
        fit(build_model(other), DATA, other, checkpoint=first_epoch, resume=True, progress=False)
    message = str(error.value)
    assert "lr 0.2 in the checkpoint, 0.1 now" in message and "width 0.125 in the checkpoint, 0.25 now" in message
    assert "batch_size" not in message and str(first_epoch) in message
    free = TrainConfig(**{**CONFIG.__dict__, "eval_batch_size": 7, "time_split": False, "track_grads": ("conv1",)})
    history = fit(build_model(free), DATA, free, checkpoint=first_epoch, resume=True, progress=False)
    assert history["epoch"] == [1, 2]  # how a run is logged or evaluated may change on resume


def test_checkpoints_without_per_rank_states_still_resume_exactly(first_epoch):
    """Checkpoints written before `ranks`, `world_size` and `device` were stored (the reference run's), or before the
    data record and the checksum, resume."""
    straight = build_model(CONFIG)
    fit(straight, DATA, CONFIG, progress=False)
    state = torch.load(first_epoch, weights_only=True)
    for key in ("ranks", "world_size", "device", "data", "tensors_sha256"):
        del state[key]
    torch.save(state, first_epoch)
    resumed = build_model(CONFIG)
    history = fit(resumed, DATA, CONFIG, checkpoint=first_epoch, resume=True, progress=False)
    assert history["epoch"] == [1, 2]
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.allclose(a, b, atol=1e-6), name


def test_optimizer_order_does_not_depend_on_module_registration_order():
    """Optimizer state is stored by position: the same parameters registered in another order map to the same slots."""
    from torch import nn

    from gooknet_helpers.config import make_optimizer

    a = nn.Sequential()
    a.add_module("x", nn.Linear(2, 3))
    a.add_module("y", nn.Linear(3, 4))
    b = nn.Sequential()
    b.add_module("y", a.y)
    b.add_module("x", a.x)
    groups_a = make_optimizer(a, TrainConfig()).param_groups
    groups_b = make_optimizer(b, TrainConfig()).param_groups
    for ga, gb in zip(groups_a, groups_b, strict=True):
        assert [id(p) for p in ga["params"]] == [id(p) for p in gb["params"]]
