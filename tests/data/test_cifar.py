"""CIFAR-10 binary reader: layouts, channel order, scaling, corrupt files, checksums."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from vfl.data import load_dataset
from vfl.data.cifar import RECORD_BYTES, SUBDIR
from vfl.data.files import SUMS_FILE
from vfl.errors import DataError

TRAIN = [f"data_batch_{k}.bin" for k in range(1, 6)]
TEST = "test_batch.bin"
PER_BATCH = 4


def records(labels: np.ndarray, images: np.ndarray) -> bytes:
    """The binary format: per image one label byte, then R, G, B planes of 32x32."""
    rows = np.concatenate([labels[:, None], images.reshape(len(labels), -1)], axis=1)
    return rows.astype(np.uint8).tobytes()


def make_cifar(directory: Path) -> dict[str, np.ndarray]:
    """Write 5 train batches and a test batch with known pixels; return them concatenated."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    out: dict[str, list[np.ndarray]] = {"x_train": [], "y_train": [], "x_test": [], "y_test": []}
    for name in [*TRAIN, TEST]:
        part = "test" if name == TEST else "train"
        labels = rng.integers(0, 10, PER_BATCH, dtype=np.uint8)
        images = rng.integers(0, 256, (PER_BATCH, 3, 32, 32), dtype=np.uint8)
        images[:, 0] //= 4  # channels differ in distribution, so per-channel scaling shows
        (directory / name).write_bytes(records(labels, images))
        out[f"x_{part}"].append(images)
        out[f"y_{part}"].append(labels)
    return {k: np.concatenate(v) for k, v in out.items()}


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "subfolder"])
def test_round_trip_with_per_channel_train_scaling(tmp_path: Path, nested: bool) -> None:
    truth = make_cifar(tmp_path / SUBDIR if nested else tmp_path)
    ds = load_dataset("cifar10", tmp_path, seed=3)

    assert ds.kind == "image" and ds.num_classes == 10 and ds.class_names[0] == "airplane"
    assert ds.x_train.shape == (5 * PER_BATCH, 3, 32, 32) and ds.x_test.shape == (
        PER_BATCH,
        3,
        32,
        32,
    )
    assert ds.x_train.dtype == np.float32
    np.testing.assert_array_equal(ds.y_train, truth["y_train"])
    np.testing.assert_array_equal(ds.y_test, truth["y_test"])
    scaled = truth["x_train"] / 255.0
    mean = scaled.mean(axis=(0, 2, 3), keepdims=True)
    std = scaled.std(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(ds.x_train, (scaled - mean) / std, atol=1e-5)
    np.testing.assert_allclose(ds.x_test, (truth["x_test"] / 255.0 - mean) / std, atol=1e-5)


def test_missing_batch_is_named(tmp_path: Path) -> None:
    make_cifar(tmp_path)
    (tmp_path / TRAIN[3]).unlink()
    with pytest.raises(DataError, match=re.escape(TRAIN[3])):
        load_dataset("cifar10", tmp_path)


def test_python_pickle_version_is_refused(tmp_path: Path) -> None:
    """Files named like the pickled distribution are never opened."""
    (tmp_path / "data_batch_1").write_bytes(b"\x80\x04not read")
    with pytest.raises(DataError, match="binary version"):
        load_dataset("cifar10", tmp_path)


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"", "not a positive multiple of 3073"),
        (bytes(RECORD_BYTES + 1), "not a positive multiple of 3073"),
        (bytes([10]) + bytes(RECORD_BYTES - 1), "label 10 is outside 0..9"),
    ],
    ids=["empty", "ragged", "label"],
)
def test_bad_batch_raises_one_line_data_error(
    tmp_path: Path, payload: bytes, fragment: str
) -> None:
    make_cifar(tmp_path)
    (tmp_path / TEST).write_bytes(payload)
    with pytest.raises(DataError) as excinfo:
        load_dataset("cifar10", tmp_path)
    assert TEST in str(excinfo.value) and fragment in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_sha256sums_relative_to_data_dir(tmp_path: Path) -> None:
    make_cifar(tmp_path / SUBDIR)
    names = [f"{SUBDIR}/{n}" for n in [*TRAIN, TEST]]
    digests = [hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in names]
    sums = "".join(f"{d}  {n}\n" for d, n in zip(digests, names, strict=True))
    (tmp_path / SUMS_FILE).write_text(sums)
    load_dataset("cifar10", tmp_path)

    path = tmp_path / SUBDIR / TRAIN[1]
    flipped = bytearray(path.read_bytes())
    flipped[5] ^= 0xFF
    path.write_bytes(bytes(flipped))
    with pytest.raises(DataError, match=re.escape(f"{TRAIN[1]}: SHA-256 mismatch")):
        load_dataset("cifar10", tmp_path)
