"""The teaching broken on purpose: the notebooks' checked lines must notice (issue 22).

Each test runs the cells of notebook 04 or 05 that train, load or measure, and the checked cell (tag
`nbval-check-output`) that guards them, as nbval does in `make test` (smoke mode, the data of GOOKNET_DATA_DIR or
the synthetic stand-ins), and compares the checked cell's printed line with the one stored in the notebook: equal
for the code as it is, different (or an error) for each mutation, which is what makes nbval fail.

| mutation | caught by |
|---|---|
| learning rate x 0 (the schedule returns 0) | 04's `did-it-learn`: weights moved False |
| gradient ascent (the optimised loss negated) | 04's `did-it-learn`: training loss fell False |
| `reference_model()` returns untrained weights | 04's and 05's `shipped-check` (accuracy, and the weights' digest) |
| the metadata records 10 points more than the weights reach | 04's and 05's `shipped-check` (real images only) |
| the input normalisation forgets the mean and std | 04's and 05's `shipped-check` (real images only) |
"""

import contextlib
import io
import json
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import torch

import gooknet_helpers
from gooknet_helpers import data as data_module
from gooknet_helpers import network, reference, training
from gooknet_helpers.runtime import seed_everything

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_04 = ROOT / "notebooks" / "04_training_cifar10.ipynb"
NOTEBOOK_05 = ROOT / "notebooks" / "05_what_it_learned.ipynb"
# Notebook 04: imports, data, budget; the demo run and its guard; the model studied, its predictions and its guard.
SETUP_04 = ("66bab706", "461fdebc", "450b5cd7")
DEMO_04 = ("bd42f199", "b8fb4438", "did-it-learn")
SHIPPED_04 = ("5a2fdac1", "7a70818d", "shipped-measure", "shipped-check")
# Notebook 05: imports, data; the model, one pass over the test images, and the guard.
SETUP_05 = ("6459c7d2", "2528b3fa")
SHIPPED_05 = ("348121f7", "1d30d757", "shipped-measure", "shipped-check")

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def cells(path: Path) -> dict[str, dict]:
    return {cell["id"]: cell for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]}


def stored_stdout(cell: dict) -> str:
    return "".join("".join(out["text"]) for out in cell.get("outputs", []) if out.get("name") == "stdout")


def run(path: Path, ids: tuple[str, ...], namespace: dict) -> str:
    """Run the cells `ids` of the notebook at `path` in `namespace`; the stdout of the last one."""
    notebook = cells(path)
    missing = [i for i in ids if i not in notebook]
    assert not missing, f"{path.name} lost the cells {missing}: update this test"
    printed = ""
    for cell_id in ids:
        lines = "".join(notebook[cell_id]["source"]).splitlines()
        source = "\n".join(line for line in lines if not line.startswith("%"))  # no IPython magics
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(source, f"{path.name}, cell {cell_id}", "exec"), namespace)
        printed = out.getvalue()
    plt.close("all")
    return printed


def guard(path: Path, cell_id: str) -> str:
    cell = cells(path)[cell_id]
    assert "nbval-check-output" in cell["metadata"].get("tags", []), f"{cell_id} is not a checked cell"
    return stored_stdout(cell)


@pytest.fixture(scope="module")
def setup_04(tmp_path_factory):
    """Notebook 04's imports, data and budget, run once in smoke mode (as nbval runs them)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GOOKNET_SMOKE", "1")
        mp.delenv("GOOKNET_FORCE_LIVE", raising=False)
        mp.chdir(tmp_path_factory.mktemp("nb04"))  # the notebook writes runs/04_training there
        namespace: dict = {}
        run(NOTEBOOK_04, SETUP_04, namespace)
        assert not namespace["live"] and namespace["data"].device.type == "cpu"
        yield namespace


@pytest.fixture(scope="module")
def setup_05():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GOOKNET_SMOKE", "1")
        namespace: dict = {}
        run(NOTEBOOK_05, SETUP_05, namespace)
        yield namespace


def untrained_reference(device="cpu"):
    """What a broken `reference_model()` would return: the recorded architecture, freshly initialised."""
    _, metadata = REAL_REFERENCE_MODEL(device)
    seed_everything(0)
    return network.GoogLeNet(**metadata["model_config"]).to(device).eval(), metadata


REAL_REFERENCE_MODEL = reference.reference_model
REAL_LOSS = training.googlenet_loss
REAL_NORMALIZE = data_module.normalize


def overstated_reference(device="cpu"):
    model, metadata = REAL_REFERENCE_MODEL(device)
    return model, {**metadata, "test_acc": metadata["test_acc"] + 0.10}


def break_reference(mp, namespace: dict, broken) -> None:
    mp.setattr(reference, "reference_model", broken)
    mp.setattr(gooknet_helpers, "reference_model", broken)
    namespace["reference_model"] = broken  # the name the notebook's imports bound


def no_standardisation(images, memory_format=torch.channels_last):
    return images.float().contiguous(memory_format=memory_format)


# ---- the code as it is: the guards print the stored lines ----


def test_notebook_04_demo_run_guard_holds(setup_04):
    printed = run(NOTEBOOK_04, DEMO_04, dict(setup_04))
    assert (
        printed
        == guard(NOTEBOOK_04, "did-it-learn")
        == ("the demo run learned: weights moved True, training loss fell True\n")
    )


def test_notebook_04_and_05_shipped_network_guards_hold(setup_04, setup_05):
    assert run(NOTEBOOK_04, SHIPPED_04, dict(setup_04)) == guard(NOTEBOOK_04, "shipped-check")
    assert run(NOTEBOOK_05, SHIPPED_05, dict(setup_05)) == guard(NOTEBOOK_05, "shipped-check")
    assert guard(NOTEBOOK_05, "shipped-check").endswith(": True\n")


# ---- mutations ----


@pytest.mark.parametrize(
    "mutation",
    [
        pytest.param(lambda mp: mp.setattr(training, "one_cycle", lambda *args, **kwargs: 0.0), id="learning rate x 0"),
        pytest.param(
            lambda mp: mp.setattr(training, "googlenet_loss", lambda *args, **kwargs: -REAL_LOSS(*args, **kwargs)),
            id="gradient ascent",
        ),
    ],
)
def test_a_run_that_does_not_learn_fails_notebook_04(setup_04, mutation, monkeypatch):
    mutation(monkeypatch)
    try:
        printed = run(NOTEBOOK_04, DEMO_04, dict(setup_04))
    except training.DivergedError:  # gradient ascent can also blow up: the cell fails, and nbval with it
        return
    assert printed != guard(NOTEBOOK_04, "did-it-learn"), "the broken run passes notebook 04's learning check"
    assert "False" in printed


@pytest.mark.parametrize(
    "broken, needs_images",
    [
        pytest.param(untrained_reference, False, id="untrained reference_model()"),
        pytest.param(overstated_reference, True, id="metadata overstates the accuracy"),
        pytest.param(None, True, id="normalisation forgets the mean and std"),
    ],
)
def test_a_wrong_shipped_network_fails_notebooks_04_and_05(setup_04, setup_05, broken, needs_images, monkeypatch):
    if needs_images and setup_04["data"].synthetic:
        pytest.skip("on synthetic images only the weights' digest is compared: set GOOKNET_DATA_DIR")
    for path, setup, ids in ((NOTEBOOK_04, setup_04, SHIPPED_04), (NOTEBOOK_05, setup_05, SHIPPED_05)):
        with monkeypatch.context() as mp:
            namespace = dict(setup)
            if broken is None:
                mp.setattr(data_module, "normalize", no_standardisation)
            else:
                break_reference(mp, namespace, broken)
            printed = run(path, ids, namespace)
        assert printed != guard(path, "shipped-check"), f"{path.name} does not notice"
        assert printed.endswith(": False\n")


# ---- the guards themselves ----


def test_learned_needs_weights_that_moved_and_a_loss_that_fell():
    from gooknet_helpers.config import TrainConfig, build_model
    from gooknet_helpers.metrics import learned

    config = TrainConfig(width=0.125)
    start, trained = build_model(config), build_model(config)
    falling, flat = {"train_loss": [2.3, 2.0]}, {"train_loss": [2.3, 2.28]}  # a 13% fall; a 0.9% one
    assert learned(falling, trained, start) == (False, True)  # same weights: nothing learned, whatever the loss did
    with torch.no_grad():
        trained.fc.bias += 0.01
    assert learned(falling, trained, start).ok
    assert learned(flat, trained, start) == (True, False)
    assert learned({"train_loss": [2.3]}, trained, start) == (True, False)  # one epoch cannot show a fall
    for buffer in trained.buffers():  # batch norm's statistics move in any training-mode pass: not learning
        buffer.add_(1)
    assert learned(falling, build_model(config), start).weights_moved is False


def test_the_metadata_check_allows_four_binomial_standard_errors_and_compares_the_digest():
    from gooknet_helpers.data import synthetic_data

    assert reference.accuracy_tolerance(0.86, 10_000) == pytest.approx(4 * (0.86 * 0.14 / 10_000) ** 0.5)
    model, metadata = REAL_REFERENCE_MODEL()
    synthetic = synthetic_data(train_per_class=1, test_per_class=2)
    check = reference.check_against_metadata(model, metadata, synthetic)
    assert check.ok and check.measured is None and check.same_weights  # synthetic images: the digest only
    assert "synthetic images: the accuracy is not compared" in check.describe()
    assert not reference.check_against_metadata(untrained_reference()[0], metadata, None).ok
    assert not reference.check_against_metadata(
        model, {k: v for k, v in metadata.items() if k != "weights_sha256"}, None
    ).ok
