"""MNIST and Fashion-MNIST from the original IDX files (no download, no torchvision).

Both datasets ship as the same four files in the same format, so one reader
serves both; only the class names differ. The split is the official 60k/10k
one, so results are comparable with the literature whatever the seed.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from vfl.data.base import Dataset
from vfl.data.files import Checksums, find_file, image_dataset, read_checked, require_dir
from vfl.errors import DataError

__all__ = ["load_fashion_mnist", "load_mnist", "parse_idx"]

_UBYTE = 0x08  # IDX type code for unsigned bytes, the only one these files use
_SIDE = 28
_NUM_CLASSES = 10

MNIST_CLASSES = [str(d) for d in range(_NUM_CLASSES)]
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]


def parse_idx(path: Path, data: bytes, ndim: int) -> np.ndarray:
    """A read-only uint8 view of an IDX payload, after checking header and size.

    The view shares ``data``'s memory, so parsing costs no copy.
    """
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: {len(data)} bytes is too short for an IDX header")
    if data[:4] != bytes([0, 0, _UBYTE, ndim]):
        raise DataError(
            f"{path}: bad IDX magic number 0x{data[:4].hex()}, expected "
            f"0x{bytes([0, 0, _UBYTE, ndim]).hex()} (unsigned bytes, {ndim} dimension(s))"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + math.prod(dims)
    if len(data) != expected:
        state = "truncated" if len(data) < expected else "has trailing bytes"
        raise DataError(
            f"{path}: {state}: {len(data)} bytes, but its header (dims {dims}) needs {expected}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _file_names(stem: str) -> list[str]:
    return [f"{stem}.gz", stem]


def _load_part(
    directory: Path, prefix: str, sums: Checksums, dataset: str
) -> tuple[np.ndarray, np.ndarray]:
    """Images ``[n, 1, 28, 28]`` and labels of one official part (``train`` or ``t10k``)."""
    image_path = find_file(directory, _file_names(f"{prefix}-images-idx3-ubyte"), dataset)
    label_path = find_file(directory, _file_names(f"{prefix}-labels-idx1-ubyte"), dataset)
    images = parse_idx(image_path, read_checked(image_path, sums), ndim=3)
    labels = parse_idx(label_path, read_checked(label_path, sums), ndim=1)
    _check_part(image_path, images, label_path, labels)
    return images[:, None], labels.astype(np.int64)


def _check_part(image_path: Path, images: np.ndarray, label_path: Path, labels: np.ndarray) -> None:
    """Reject files that parse but cannot be this dataset."""
    if images.shape[1:] != (_SIDE, _SIDE):
        raise DataError(
            f"{image_path}: images are {images.shape[1]}x{images.shape[2]}, expected 28x28"
        )
    if len(images) == 0:
        raise DataError(f"{image_path}: contains no images")
    if len(labels) != len(images):
        raise DataError(
            f"{label_path}: {len(labels)} labels for {len(images)} images in {image_path.name}"
        )
    if labels.max() >= _NUM_CLASSES:
        raise DataError(f"{label_path}: label {int(labels.max())} is outside 0..9")


def _load(name: str, data_dir: Path | None, class_names: list[str]) -> Dataset:
    directory = require_dir(data_dir, name)
    sums = Checksums.load(directory)
    train = _load_part(directory, "train", sums, name)
    test = _load_part(directory, "t10k", sums, name)
    return image_dataset(name, train, test, class_names)


def load_mnist(data_dir: Path | None, _seed: int) -> Dataset:
    """Handwritten digits; ``_seed`` is unused because the split is the official one."""
    return _load("mnist", data_dir, MNIST_CLASSES)


def load_fashion_mnist(data_dir: Path | None, _seed: int) -> Dataset:
    """Zalando's drop-in MNIST replacement: same files and format, harder classes."""
    return _load("fashion-mnist", data_dir, FASHION_CLASSES)
