"""CIFAR-10 held on the training device as uint8 tensors, with batched random crop + flip there.

Where the images come from, in order:
1. a folder given as argument, else the environment variable `GOOKNET_DATA_DIR`: either ImageFolder layout
   (`train/<class>/*.jpg|png`, `test/<class>/*`) or a folder holding torchvision's `cifar-10-batches-py`;
2. otherwise torchvision's CIFAR-10, downloaded once to `~/.cache/gooknet` (needs a network; a download that
   stalls for `DOWNLOAD_TIMEOUT_S` seconds fails, and a partial archive left by an interrupted download fails
   torchvision's MD5 check and is fetched again);
3. in smoke mode (GOOKNET_SMOKE=1) without a folder, a small synthetic dataset, labelled synthetic,
   except under CI=true, where missing data is an error so a real-data test never turns synthetic.
Offline with no folder, `load_data` raises `DataUnavailableError`, whose message alone says how to provide the
images (Jupyter shows it without a traceback).
"""

from __future__ import annotations

import functools
import os
import socket
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .runtime import GooknetError, smoke

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# Per-channel mean and standard deviation of the CIFAR-10 training images (pixel values in [0, 1]).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
IMAGE_SIZE = 32
CACHE_DIR = Path("~/.cache/gooknet").expanduser()
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
FULL_CIFAR10 = (50_000, 10_000)  # train and test images of the whole dataset
DOWNLOAD_TIMEOUT_S = 60  # a CIFAR-10 download that receives nothing for this long fails instead of hanging


class DataUnavailableError(GooknetError):
    """No training images could be found, downloaded or read; the message says what to do."""


class DataMismatchError(DataUnavailableError):
    """Images that do not make one classification problem: test classes that are not the training classes, or a
    class without images."""


HOW_TO_PROVIDE = (
    "Provide CIFAR-10 in one of these ways:\n"
    "  1. connect to the internet: torchvision downloads CIFAR-10 (170 MB) once to {cache};\n"
    "  2. put the images in ImageFolder layout, train/<class>/*.jpg and test/<class>/*.jpg, and pass the folder\n"
    "     (load_data('path/to/folder') or --data path/to/folder) or set GOOKNET_DATA_DIR=path/to/folder;\n"
    "     for notebooks, set GOOKNET_DATA_DIR before starting Jupyter (a running kernel does not see it);\n"
    "  3. copy torchvision's cifar-10-batches-py folder into a folder and point GOOKNET_DATA_DIR at that folder.\n"
    "Or walk through the notebooks without CIFAR-10: start Jupyter with GOOKNET_SMOKE=1 (tiny training budgets on\n"
    "small SYNTHETIC images, labelled as such in every printout)."
)


def display_path(path: str | Path) -> str:
    """`path` for printouts and metrics without this machine's absolute paths: relative to the working directory
    when inside it, `~/...` inside the home folder, else the folder's name."""
    path = Path(path).expanduser().resolve()
    if path.is_relative_to(Path.cwd()):
        return str(path.relative_to(Path.cwd()))
    if path.is_relative_to(Path.home()):
        return str(Path("~") / path.relative_to(Path.home()))
    return path.name


@dataclass
class ImageData:
    """Train and test images as uint8 (N, 3, H, W) tensors with int64 labels, all on one device."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: tuple[str, ...]
    source: str  # "CIFAR-10", "CIFAR-10 subset", "folder", "synthetic"
    location: str  # where the images came from (no absolute path: see `display_path`)

    @property
    def synthetic(self) -> bool:
        return self.source == "synthetic"

    @property
    def device(self) -> torch.device:
        return self.train_images.device

    def describe(self) -> str:
        """One line naming the data, so every printout says whether it is real or synthetic."""
        kind = "SYNTHETIC images (not CIFAR-10)" if self.synthetic else f"{self.source} images"
        return (
            f"{kind} from {self.location}: {len(self.train_labels):,} train / {len(self.test_labels):,} test, "
            f"{len(self.classes)} classes, {tuple(self.train_images.shape[1:])} uint8 on {self.device.type}"
        )

    def subset(self, train: int, test: int) -> ImageData:
        """`train` and `test` images spread evenly over each split (so every class keeps its share)."""

        def pick(n: int, total: int) -> torch.Tensor:
            return torch.linspace(0, total - 1, min(n, total), device=self.device).long()

        i, j = pick(train, len(self.train_labels)), pick(test, len(self.test_labels))
        tensors = self.train_images[i], self.train_labels[i], self.test_images[j], self.test_labels[j]
        return ImageData(*tensors, classes=self.classes, source=self.source, location=self.location)

    def to(self, device: torch.device | str) -> ImageData:
        moved = (t.to(device) for t in (self.train_images, self.train_labels, self.test_images, self.test_labels))
        return ImageData(*moved, classes=self.classes, source=self.source, location=self.location)


def load_data(root: str | Path | None = None, device: torch.device | str = "cpu", download: bool = True) -> ImageData:
    """The training and test images on `device`, from the first source that exists (see the module docstring)."""
    root = root or os.environ.get("GOOKNET_DATA_DIR") or None
    if root is not None:
        data = load_folder(root)
    elif smoke():
        if os.environ.get("CI", "").lower() == "true":
            raise DataUnavailableError(
                "CI=true but GOOKNET_DATA_DIR is not set: the smoke tests must train on real images, not on "
                "synthetic ones. Set GOOKNET_DATA_DIR to the CIFAR-10 subset folder (ImageFolder layout)."
            )
        data = synthetic_data()
    else:
        data = load_torchvision_cifar10(CACHE_DIR, download=download)
    return data.to(device)


def load_folder(root: str | Path) -> ImageData:
    """Images from `root`: ImageFolder layout (train/<class>/, test/<class>/) or torchvision's CIFAR-10 files."""
    root = Path(root).expanduser()
    if (root / "cifar-10-batches-py").is_dir():
        return load_torchvision_cifar10(root, download=False)
    if not (root / "train").is_dir() or not (root / "test").is_dir():
        raise DataUnavailableError(
            f"{root} has no train/ and test/ folders (ImageFolder layout) and no cifar-10-batches-py folder.\n"
            + HOW_TO_PROVIDE.format(cache=display_path(CACHE_DIR))
        )
    data = _decode_folder(str(root.resolve()))
    return ImageData(*(t.clone() for t in data[:4]), classes=data[4], source=data[5], location=display_path(root))


def class_folders(folder: Path) -> tuple[str, ...]:
    """The class folders of one split, sorted (their order gives the labels); hidden folders such as Jupyter's
    .ipynb_checkpoints are not classes."""
    return tuple(sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")))


def check_same_classes(root: str, train: tuple[str, ...], test: tuple[str, ...]) -> None:
    """DataMismatchError unless train/ and test/ have the same class folders: otherwise label 3 would mean one class
    in training and another in testing, and the test accuracy would score a different problem."""
    if train == test:
        return
    only_train, only_test = [c for c in train if c not in test], [c for c in test if c not in train]
    parts = [f"only in train/: {', '.join(only_train)}"] if only_train else []
    parts += [f"only in test/: {', '.join(only_test)}"] if only_test else []
    raise DataMismatchError(
        f"{root}: train/ and test/ have different class folders ({'; '.join(parts)}). Both need the same classes, "
        "with the same folder names (they give the labels): rename, add or remove folders so that they match."
    )


@functools.lru_cache(maxsize=2)
def _decode_folder(root: str) -> tuple:
    """Decode every image of an ImageFolder tree once per process (6,000 CIFAR JPEGs take about a second).

    The source is "CIFAR-10" for CIFAR-10's classes with all 50,000 / 10,000 images, "CIFAR-10 subset" for fewer.
    Refused with one line: test classes other than the training classes, a class folder without images, an image
    too large to be a picture of this kind. 16-bit images are converted to 8 bits, and one line says so.
    """
    classes = class_folders(Path(root) / "train")
    if not classes:
        how = HOW_TO_PROVIDE.format(cache=display_path(CACHE_DIR))
        raise DataUnavailableError(f"{root}/train has no class folders.\n{how}")
    check_same_classes(root, classes, class_folders(Path(root) / "test"))
    tensors, converted = [], []
    for split in ("train", "test"):
        images, labels = [], []
        for label, name in enumerate(classes):
            files = sorted(f for f in (Path(root) / split / name).glob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise DataMismatchError(
                    f"{root}/{split}/{name} holds no .jpg or .png images: every class needs images in both train/ and "
                    "test/. Add its images, or remove the class folder from both."
                )
            images += [_read_image(f, converted) for f in files]
            labels += [label] * len(files)
        tensors += [torch.stack(images), torch.tensor(labels)]
    if converted:
        print(
            f"note: {len(converted):,} 16-bit image(s) converted to 8 bits per channel (the first: {converted[0]}); "
            "the network trains on 8-bit images."
        )
    counts = len(tensors[1]), len(tensors[3])
    source = "folder"
    if classes == CIFAR10_CLASSES:
        source = "CIFAR-10" if counts == FULL_CIFAR10 else "CIFAR-10 subset"
    return (*tensors, classes, source)


SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")  # how PIL opens 16-bit grayscale PNGs


def _to_rgb(image: object, path: Path, converted: list[Path] | None = None) -> object:
    """A PIL image as 8-bit RGB. 16-bit grayscale is scaled to 8 bits (65535 -> 255; PIL's own conversion would clip
    every value above 255 to white) and `path` is added to `converted`; float images are refused."""
    from PIL import Image

    if image.mode in SIXTEEN_BIT_MODES:
        values = np.asarray(image).astype(np.float64)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise DataUnavailableError(
                f"The image {path} holds 32-bit integer values; save it as an 8-bit RGB image (JPEG or PNG)."
            )
        if converted is not None:
            converted.append(path)
        return Image.fromarray(np.round(values / 257).astype(np.uint8), "L").convert("RGB")
    if image.mode == "F":
        raise DataUnavailableError(
            f"The image {path} holds floating-point values; save it as an 8-bit RGB image (JPEG or PNG)."
        )
    return image.convert("RGB")


def _read_image(path: Path, converted: list[Path] | None = None) -> torch.Tensor:
    """One image file as a (3, 32, 32) uint8 tensor (resized with antialiasing if it has another size); a 16-bit
    image is scaled to 8 bits (and added to `converted`). An image so large that PIL suspects a decompression bomb
    (over `Image.MAX_IMAGE_PIXELS`, 89 million pixels) is refused in one line.

    PIL is imported here, on first use: nothing else in training needs an image library.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image = _to_rgb(image, path, converted)
                if image.size != (IMAGE_SIZE, IMAGE_SIZE):
                    image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR)
                return torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        said = str(error).split(",")[0]
        raise DataUnavailableError(
            f"The image {path} is too large to read safely ({said}; PIL refuses it as a possible decompression bomb). "
            f"These images are {IMAGE_SIZE}x{IMAGE_SIZE}: shrink it or delete it, then run again."
        ) from None
    except (OSError, ValueError) as error:  # PIL's UnidentifiedImageError and truncated files are OSErrors
        raise DataUnavailableError(
            f"Cannot read the image {path} ({error}). Replace it with a good copy or delete it, then run again."
        ) from None


def load_torchvision_cifar10(root: str | Path, download: bool = True) -> ImageData:
    """All 60,000 CIFAR-10 images through torchvision (downloaded to `root` once when `download`).

    The download fails after `DOWNLOAD_TIMEOUT_S` seconds without data (the socket default timeout is set for the
    download and restored afterwards). torchvision checks the archive's MD5, so a partial one left by an interrupted
    download is fetched again.
    """
    from torchvision.datasets import CIFAR10

    timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        splits = [CIFAR10(str(root), train=train, download=download) for train in (True, False)]
    except (OSError, RuntimeError) as error:  # no network (URLError and timeouts are OSErrors), or files missing
        where = display_path(root)
        raise DataUnavailableError(
            f"CIFAR-10 is not in {where} and could not be downloaded ({error}).\n" + HOW_TO_PROVIDE.format(cache=where)
        ) from None  # the network library's chain of errors adds nothing to this message
    finally:
        socket.setdefaulttimeout(timeout)
    tensors = []
    for split in splits:
        tensors += [torch.from_numpy(split.data).permute(0, 3, 1, 2).contiguous(), torch.tensor(split.targets)]
    return ImageData(*tensors, classes=CIFAR10_CLASSES, source="CIFAR-10", location=display_path(root))


def synthetic_data(train_per_class: int = 100, test_per_class: int = 20, seed: int = 0) -> ImageData:
    """A small learnable stand-in for CIFAR-10: each class is a smooth colour pattern plus noise.

    For smoke runs without real images only; it is named synthetic wherever it is described.
    """
    g = torch.Generator().manual_seed(seed)
    templates = F.interpolate(torch.rand(10, 3, 4, 4, generator=g), size=IMAGE_SIZE, mode="bilinear")
    tensors = []
    for n in (train_per_class, test_per_class):
        labels = torch.arange(10).repeat_interleave(n)
        images = templates[labels] + 0.25 * torch.randn(len(labels), 3, IMAGE_SIZE, IMAGE_SIZE, generator=g)
        tensors += [(images.clamp(0, 1) * 255).round().to(torch.uint8), labels]
    classes = tuple(f"synthetic-{i}" for i in range(10))
    return ImageData(*tensors, classes=classes, source="synthetic", location="synthetic_data() (built in)")


def crop_flip(images: torch.Tensor, top: torch.Tensor, left: torch.Tensor, flip: torch.Tensor, padding: int = 4):
    """Crop each zero-padded image at (top, left) to its original size, mirroring those where `flip` is True.

    One gather for the whole batch, no per-image Python. Returns a (N, C, H, W) view in channels_last memory
    order, the layout the convolutions prefer.
    """
    n, _, h, w = images.shape
    padded = F.pad(images, (padding, padding, padding, padding))
    rows = top[:, None] + torch.arange(h, device=images.device)  # (N, H)
    cols = torch.arange(w, device=images.device).expand(n, w)
    cols = left[:, None] + torch.where(flip[:, None], w - 1 - cols, cols)  # (N, W)
    batch = torch.arange(n, device=images.device)[:, None, None]
    return padded[batch, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)


def random_crop_flip(images: torch.Tensor, padding: int = 4, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random crop with `padding` pixels of zero padding and a random horizontal flip, batched on the device."""
    n, device = len(images), images.device
    top, left = torch.randint(0, 2 * padding + 1, (2, n), device=device, generator=generator)
    flip = torch.rand(n, device=device, generator=generator) < 0.5
    return crop_flip(images, top, left, flip, padding)


@functools.lru_cache(maxsize=8)
def _mean_std(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10's mean and std in pixel units, (1, 3, 1, 1), on `device`: copied there once, not for every batch
    (a copy to a GPU makes the CPU wait for it)."""
    mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1) * 255
    std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1) * 255
    return mean.to(device), std.to(device)


def normalize(images: torch.Tensor, memory_format: torch.memory_format = torch.channels_last) -> torch.Tensor:
    """uint8 images -> float32, standardised with the CIFAR-10 mean and std, in `memory_format`: channels_last
    (NHWC, what convolutions prefer) by default, torch.contiguous_format for plain NCHW."""
    mean, std = _mean_std(images.device)
    if memory_format != torch.channels_last:
        images = images.contiguous(memory_format=memory_format)  # reordered as uint8: a quarter of the bytes
    return ((images.float() - mean) / std).contiguous(memory_format=memory_format)


def batches(
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    *,
    train: bool = False,
    generator: torch.Generator | None = None,
    augment_generator: torch.Generator | None = None,
    rank: int = 0,
    world_size: int = 1,
    memory_format: torch.memory_format = torch.channels_last,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Normalised (images, labels) batches in `memory_format` (see `normalize`); in training shuffled, augmented,
    and the last partial batch dropped.

    With `world_size > 1` every rank draws the same shuffled order from `generator` (seeded alike) and takes its
    own equal shard of it (DistributedDataParallel); `augment_generator` (default: `generator`) drives the crops.
    """
    if train:
        order = torch.randperm(len(labels), device=images.device, generator=generator)
        order = order[rank::world_size][: len(labels) // world_size]
        stop = len(order) - len(order) % batch_size
    else:
        order = torch.arange(len(labels), device=images.device)
        stop = len(order)
    for start in range(0, stop, batch_size):
        index = order[start : start + batch_size]
        x = images[index]
        if train:
            x = random_crop_flip(x, generator=augment_generator or generator)
        yield normalize(x, memory_format), labels[index]


def steps_per_epoch(num_images: int, batch_size: int, world_size: int = 1) -> int:
    """Training steps in one epoch (partial batches dropped), as `batches(train=True)` yields them; 0 when a
    process's share of the images is smaller than one batch."""
    return (num_images // world_size) // batch_size
