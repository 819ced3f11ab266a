"""Data loading and the GPU-side augmentation: sources, errors, downloads, and crop/flip against torchvision."""

import hashlib
import os
import pickle
import socket
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF
from PIL import Image
from torchvision.datasets import CIFAR10

from gooknet_helpers import data as data_module
from gooknet_helpers.data import (
    CIFAR10_CLASSES,
    CIFAR10_MEAN,
    CIFAR10_STD,
    DOWNLOAD_TIMEOUT_S,
    DataUnavailableError,
    batches,
    crop_flip,
    display_path,
    load_data,
    load_folder,
    normalize,
    random_crop_flip,
    synthetic_data,
)


@pytest.fixture
def images():
    return torch.randint(1, 256, (6, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def test_crop_flip_matches_torchvision_reference(images):
    top, left = torch.tensor([0, 8, 3, 4, 7, 1]), torch.tensor([8, 0, 5, 4, 2, 6])
    flip = torch.tensor([False, True, True, False, True, False])
    out = crop_flip(images, top, left, flip)
    for i, image in enumerate(images):
        expected = TF.crop(TF.pad(image, [4]), int(top[i]), int(left[i]), 32, 32)
        expected = TF.horizontal_flip(expected) if flip[i] else expected
        assert torch.equal(out[i], expected)


def test_crop_flip_centre_is_identity_or_mirror(images):
    centre = torch.full((6,), 4)
    assert torch.equal(crop_flip(images, centre, centre, torch.zeros(6, dtype=torch.bool)), images)
    assert torch.equal(crop_flip(images, centre, centre, torch.ones(6, dtype=torch.bool)), images.flip(-1))


def test_crop_corner_shifts_in_zero_padding(images):
    zero = torch.zeros(6, dtype=torch.long)
    out = crop_flip(images, zero, zero, torch.zeros(6, dtype=torch.bool))
    assert (out[..., :4, :] == 0).all() and (out[..., :, :4] == 0).all()
    assert torch.equal(out[..., 4:, 4:], images[..., :28, :28])


def test_random_crop_flip_shape_dtype_layout_and_values(images):
    out = random_crop_flip(images, generator=torch.Generator().manual_seed(1))
    assert out.shape == images.shape and out.dtype == torch.uint8
    assert out.is_contiguous(memory_format=torch.channels_last)
    # Every pixel is a pixel of its own image or padding (0); inputs are >= 1, so zeros are padding only.
    for o, image in zip(out, images, strict=True):
        assert set(o.unique().tolist()) <= set(image.unique().tolist()) | {0}


def test_random_flip_and_offsets_are_spread():
    ramp = torch.arange(32, dtype=torch.uint8).expand(2000, 3, 32, 32) + 1  # column index + 1 in every pixel
    out = random_crop_flip(ramp, generator=torch.Generator().manual_seed(0))
    rows = out[:, 0, 16]  # the middle row: increasing (not flipped) or decreasing (flipped)
    flipped = (rows[:, 20].int() < rows[:, 19].int()).float().mean()
    assert 0.45 < flipped < 0.55
    assert 0.08 < (out[:, 0, 16, 0] == 0).float().mean() < 0.55  # left padding shows when shifted right


def test_normalize_is_float_channels_last_and_standardised():
    x = normalize(torch.tensor([0, 255], dtype=torch.uint8).view(2, 1, 1, 1).expand(2, 3, 4, 4))
    assert x.dtype == torch.float32 and x.is_contiguous(memory_format=torch.channels_last)
    mean, std = torch.tensor(CIFAR10_MEAN), torch.tensor(CIFAR10_STD)
    assert torch.allclose(x[0, :, 0, 0], -mean / std) and torch.allclose(x[1, :, 0, 0], (1 - mean) / std)
    cpu = torch.device("cpu")
    assert data_module._mean_std(cpu) is data_module._mean_std(cpu)  # made once per device, not for every batch


def test_batches_drop_last_in_training_and_shard_across_ranks():
    labels = torch.arange(103)
    images = torch.zeros(103, 3, 32, 32, dtype=torch.uint8)
    train = list(batches(images, labels, 10, train=True, generator=torch.Generator().manual_seed(0)))
    assert len(train) == 10 and all(len(y) == 10 for _, y in train)
    assert len(set(torch.cat([y for _, y in train]).tolist())) == 100
    test = torch.cat([y for _, y in batches(images, labels, 10)])
    assert torch.equal(test, labels)
    shards = [
        torch.cat(
            [
                y
                for _, y in batches(
                    images, labels, 5, train=True, generator=torch.Generator().manual_seed(0), rank=r, world_size=2
                )
            ]
        )
        for r in (0, 1)
    ]
    assert len(shards[0]) == len(shards[1]) == 50 and not set(shards[0].tolist()) & set(shards[1].tolist())


def test_offline_without_data_raises_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("GOOKNET_DATA_DIR", raising=False)
    monkeypatch.setenv("GOOKNET_SMOKE", "0")
    monkeypatch.setattr(data_module, "CACHE_DIR", tmp_path)

    def offline(self):
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    monkeypatch.setattr("torchvision.datasets.CIFAR10.download", offline)
    with pytest.raises(DataUnavailableError, match="GOOKNET_DATA_DIR") as error:
        load_data()
    message = str(error.value)
    assert "ImageFolder" in message and "could not be downloaded" in message and "name resolution" in message
    assert "before starting Jupyter" in message and "GOOKNET_SMOKE=1" in message and "SYNTHETIC" in message
    assert error.value.__cause__ is None and error.value.__suppress_context__  # no chain of network errors
    assert error.value._render_traceback_() == [f"DataUnavailableError: {message}"]  # Jupyter: the message alone
    assert str(tmp_path) not in message  # the cache folder by name, not by this machine's absolute path


def fake_cifar10(folder: Path) -> dict:
    """A tiny archive in CIFAR-10's python format (2 images per batch file) and the checksums torchvision checks."""
    files = folder / "cifar-10-batches-py"
    files.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    pixels = np.random.default_rng(0).integers(0, 256, (2, 3 * 32 * 32), dtype=np.uint8)
    for name in names:
        (files / name).write_bytes(pickle.dumps({"data": pixels, "labels": [0, 1]}))
    (files / "batches.meta").write_bytes(pickle.dumps({"label_names": list(CIFAR10_CLASSES)}))
    archive = folder / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(files, arcname="cifar-10-batches-py")

    def md5(path: Path) -> str:
        return hashlib.md5(path.read_bytes()).hexdigest()

    return dict(
        archive=archive.read_bytes(),
        tgz_md5=md5(archive),
        train_list=[[name, md5(files / name)] for name in names[:5]],
        test_list=[["test_batch", md5(files / "test_batch")]],
        meta={"filename": "batches.meta", "key": "label_names", "md5": md5(files / "batches.meta")},
    )


def test_interrupted_or_stalled_download_does_not_break_the_next_attempt(monkeypatch, tmp_path):
    """Ctrl-C half-way through the download, then a stalled one (the timeout), then a good one: the half archive
    left behind fails torchvision's MD5 check and is fetched again."""
    fake = fake_cifar10(tmp_path / "server")
    for key in ("tgz_md5", "train_list", "test_list", "meta"):
        monkeypatch.setattr(CIFAR10, key, fake[key])
    monkeypatch.setattr(CIFAR10, "url", "file:///cifar-10-python.tar.gz")
    monkeypatch.setattr("torchvision.datasets.utils._get_redirect_url", lambda url, max_hops=3: url)
    attempts, timeouts = ["ctrl-c", "stall", "ok"], []

    def network(url, filename, chunk_size=None):
        timeouts.append(socket.getdefaulttimeout())
        Path(filename).write_bytes(fake["archive"][: len(fake["archive"]) // 2])
        attempt = attempts.pop(0)
        if attempt == "ctrl-c":
            raise KeyboardInterrupt
        if attempt == "stall":
            raise TimeoutError("timed out")
        Path(filename).write_bytes(fake["archive"])

    monkeypatch.setattr("torchvision.datasets.utils._urlretrieve", network)
    monkeypatch.delenv("GOOKNET_DATA_DIR", raising=False)
    monkeypatch.setenv("GOOKNET_SMOKE", "0")
    monkeypatch.setattr(data_module, "CACHE_DIR", tmp_path / "cache")
    before = socket.getdefaulttimeout()
    with pytest.raises(KeyboardInterrupt):
        load_data()
    assert (tmp_path / "cache" / "cifar-10-python.tar.gz").stat().st_size < len(fake["archive"])
    with pytest.raises(DataUnavailableError, match=r"could not be downloaded \(timed out\)"):
        load_data()
    data = load_data()
    assert data.source == "CIFAR-10" and len(data.train_labels) == 10 and len(data.test_labels) == 2
    assert timeouts == [DOWNLOAD_TIMEOUT_S] * 3 and socket.getdefaulttimeout() == before  # restored every time


def test_smoke_mode_without_data_is_synthetic_but_an_error_under_ci(monkeypatch):
    monkeypatch.delenv("GOOKNET_DATA_DIR", raising=False)
    monkeypatch.setenv("GOOKNET_SMOKE", "1")
    monkeypatch.setenv("CI", "false")
    data = load_data()
    assert data.synthetic and "SYNTHETIC" in data.describe() and data.classes[0].startswith("synthetic")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(DataUnavailableError, match="CI=true"):
        load_data()


def test_missing_or_empty_folder_is_an_error(tmp_path):
    with pytest.raises(DataUnavailableError, match="ImageFolder"):
        load_folder(tmp_path / "nowhere")
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    with pytest.raises(DataUnavailableError, match="no class folders"):
        load_folder(tmp_path)


def image_folder(root: Path, classes: tuple[str, ...], per_class: int = 1) -> Path:
    for split in ("train", "test"):
        for name in classes:
            (root / split / name).mkdir(parents=True)
            for i in range(per_class):
                Image.new("RGB", (32, 32), (7, 7, 7)).save(root / split / name / f"{i}.png")
    return root


def test_full_cifar10_and_a_subset_are_named_apart(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "FULL_CIFAR10", (20, 20))  # pretend 2 images per class are all of CIFAR-10
    assert load_folder(image_folder(tmp_path / "full", CIFAR10_CLASSES, 2)).source == "CIFAR-10"
    assert load_folder(image_folder(tmp_path / "part", CIFAR10_CLASSES, 1)).source == "CIFAR-10 subset"


def test_descriptions_hold_no_absolute_paths(tmp_path, monkeypatch):
    folder = image_folder(tmp_path / "work" / "cifar-mini", ("cat", "dog"))
    monkeypatch.chdir(tmp_path / "work")
    assert load_folder(folder.resolve()).location == "cifar-mini"  # inside the working directory: relative
    monkeypatch.chdir(tmp_path)
    assert display_path(folder) == str(Path("work") / "cifar-mini")
    monkeypatch.chdir(folder)
    other = image_folder(tmp_path / "elsewhere", ("cat", "dog"))
    data = load_folder(other)
    assert data.location == "elsewhere" and str(tmp_path) not in data.describe()  # outside it: the name
    assert display_path(Path.home() / "data" / "cifar") == str(Path("~") / "data" / "cifar")


def test_a_corrupt_image_names_the_file(tmp_path):
    folder = image_folder(tmp_path, ("cat", "dog"))
    (folder / "test" / "dog" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    with pytest.raises(DataUnavailableError, match="broken.jpg") as error:
        load_folder(folder)
    assert "Replace it" in str(error.value) and error.value.__cause__ is None and error.value.__suppress_context__


def test_image_folder_layout_is_read_and_resized(tmp_path):
    for split in ("train", "test"):
        for name, size in (("cat", 32), ("dog", 40)):
            (tmp_path / split / name).mkdir(parents=True)
            Image.new("RGB", (size, size), (7, 7, 7)).save(tmp_path / split / name / "0.png")
    data = load_folder(tmp_path)
    assert data.classes == ("cat", "dog") and data.source == "folder"
    assert data.train_images.shape == (2, 3, 32, 32) and (data.train_images == 7).all()
    assert data.train_labels.tolist() == [0, 1]


def test_synthetic_data_is_labelled_and_balanced():
    data = synthetic_data(train_per_class=3, test_per_class=2)
    assert data.train_images.shape == (30, 3, 32, 32) and data.train_images.dtype == torch.uint8
    assert torch.bincount(data.test_labels).tolist() == [2] * 10
    assert data.synthetic and "SYNTHETIC" in data.describe()


@pytest.mark.skipif(not os.environ.get("GOOKNET_DATA_DIR"), reason="GOOKNET_DATA_DIR not set (real CIFAR-10 subset)")
def test_real_subset_loads_every_image():
    data = load_data()
    assert data.classes == CIFAR10_CLASSES and not data.synthetic and data.source == "CIFAR-10 subset"
    assert not data.location.startswith("/") and "/" not in data.describe().split(" from ")[1].split(":")[0][:1]
    assert data.train_images.shape[1:] == (3, 32, 32) and data.train_images.dtype == torch.uint8
    assert len(data.train_labels) >= 5000 and len(data.test_labels) >= 1000


def test_subset_keeps_every_class():
    data = synthetic_data(train_per_class=10, test_per_class=10).subset(train=20, test=30)
    assert len(data.train_labels) == 20 and len(data.test_labels) == 30
    assert torch.bincount(data.train_labels).tolist() == [2] * 10 and data.synthetic
