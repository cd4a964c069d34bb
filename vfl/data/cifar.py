"""CIFAR-10 from the *binary* distribution (``cifar-10-binary.tar.gz``).

The Python distribution is a set of pickles, and unpickling a downloaded file
runs whatever code it contains; the binary one is plain fixed-size records,
so it is the only one read here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vfl.data.base import Dataset
from vfl.data.files import Checksums, find_file, image_dataset, read_checked, require_dir
from vfl.errors import DataError

__all__ = ["CLASSES", "RECORD_BYTES", "SUBDIR", "load_cifar10"]

NAME = "cifar10"
SUBDIR = "cifar-10-batches-bin"
TRAIN_FILES = tuple(f"data_batch_{k}.bin" for k in range(1, 6))
TEST_FILES = ("test_batch.bin",)
IMAGE_SHAPE = (3, 32, 32)  # channel-major: all red, then all green, then all blue
RECORD_BYTES = 1 + 3 * 32 * 32
CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


def _batch_dir(data_dir: Path) -> Path:
    """Accept the batches directly in ``data_dir`` or in the folder the archive extracts to."""
    for directory in (data_dir, data_dir / SUBDIR):
        if (directory / TRAIN_FILES[0]).is_file():
            return directory
    raise DataError(
        f"{NAME}: no {TRAIN_FILES[0]} in {data_dir} or {data_dir / SUBDIR}; "
        "extract the binary version (cifar-10-binary.tar.gz) there"
    )


def _read_batch(path: Path, sums: Checksums) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images ``[n, 3, 32, 32]`` and int64 labels of one batch file."""
    data = read_checked(path, sums)
    if not data or len(data) % RECORD_BYTES:
        raise DataError(
            f"{path}: {len(data)} bytes is not a positive multiple of {RECORD_BYTES} "
            "(1 label byte + 3072 pixel bytes per image); is it the binary version?"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0]
    if labels.max() >= len(CLASSES):
        raise DataError(f"{path}: label {int(labels.max())} is outside 0..9")
    return records[:, 1:].reshape(-1, *IMAGE_SHAPE), labels.astype(np.int64)


def _read_batches(
    directory: Path, names: tuple[str, ...], sums: Checksums
) -> tuple[np.ndarray, np.ndarray]:
    parts = [_read_batch(find_file(directory, [n], NAME), sums) for n in names]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def load_cifar10(data_dir: Path | None, _seed: int) -> Dataset:
    """The official 50k/10k split; ``_seed`` is unused so results match the literature.

    A ``SHA256SUMS`` in ``data_dir`` is honoured, with names relative to
    ``data_dir`` (so ``cifar-10-batches-bin/data_batch_1.bin`` when the
    batches are in the subfolder).
    """
    root = require_dir(data_dir, NAME)
    directory = _batch_dir(root)
    sums = Checksums.load(root)
    train = _read_batches(directory, TRAIN_FILES, sums)
    test = _read_batches(directory, TEST_FILES, sums)
    return image_dataset(NAME, train, test, CLASSES)
