"""MNIST / Fashion-MNIST IDX reader: round trip, corrupt files, checksums, real data."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from vfl.data import load_dataset
from vfl.data.files import SUMS_FILE, Checksums
from vfl.errors import DataError

REAL_MNIST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"
TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX: magic 0x0000 08 <ndim>, big-endian dims, payload."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write(directory: Path, stem: str, payload: bytes, compress: bool = True) -> Path:
    path = directory / (f"{stem}.gz" if compress else stem)
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


def make_mnist(directory: Path, compress: bool = True, n_train: int = 12, n_test: int = 5) -> dict:
    """Write a tiny, fully known MNIST and return its pixels and labels."""
    rng = np.random.default_rng(0)
    arrays = {
        TRAIN_IMAGES: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        TRAIN_LABELS: np.arange(n_train, dtype=np.uint8) % 10,
        TEST_IMAGES: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        TEST_LABELS: (np.arange(n_test, dtype=np.uint8) * 3) % 10,
    }
    for stem, array in arrays.items():
        write(directory, stem, idx_bytes(array), compress)
    return arrays


def write_sums(directory: Path, names: list[str]) -> None:
    lines = [f"{hashlib.sha256((directory / n).read_bytes()).hexdigest()}  {n}" for n in names]
    (directory / SUMS_FILE).write_text("\n".join(lines) + "\n")


def assert_one_line_error(excinfo: pytest.ExceptionInfo, *fragments: str) -> None:
    message = str(excinfo.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize("compress", [True, False], ids=["gz", "plain"])
def test_round_trip_returns_known_pixels_and_labels(tmp_path: Path, compress: bool) -> None:
    arrays = make_mnist(tmp_path, compress)
    ds = load_dataset("mnist", tmp_path, seed=0)

    assert ds.kind == "image" and ds.num_classes == 10
    assert ds.x_train.shape == (12, 1, 28, 28) and ds.x_test.shape == (5, 1, 28, 28)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    np.testing.assert_array_equal(ds.y_train, arrays[TRAIN_LABELS])
    np.testing.assert_array_equal(ds.y_test, arrays[TEST_LABELS])
    scaled = arrays[TRAIN_IMAGES] / 255.0
    mean, std = scaled.mean(), scaled.std()
    np.testing.assert_allclose(ds.x_train[:, 0], (scaled - mean) / std, atol=1e-5)
    np.testing.assert_allclose(
        ds.x_test[:, 0], (arrays[TEST_IMAGES] / 255.0 - mean) / std, atol=1e-5
    )
    assert abs(float(ds.x_train.mean())) < 1e-5 and abs(float(ds.x_train.std()) - 1) < 1e-4


def test_split_ignores_seed_and_fashion_names_its_classes(tmp_path: Path) -> None:
    make_mnist(tmp_path)
    a = load_dataset("fashion-mnist", tmp_path, seed=0)
    b = load_dataset("fashion-mnist", tmp_path, seed=7)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert a.class_names[0] == "T-shirt/top" and len(a.class_names) == 10
    assert load_dataset("mnist", tmp_path).class_names == [str(d) for d in range(10)]


def test_missing_directory_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("mnist", tmp_path / "nope")
    make_mnist(tmp_path)
    (tmp_path / f"{TEST_LABELS}.gz").unlink()
    with pytest.raises(DataError) as excinfo:
        load_dataset("mnist", tmp_path)
    assert_one_line_error(excinfo, TEST_LABELS, "missing")


def _truncate_gzip(directory: Path) -> None:
    path = directory / f"{TRAIN_IMAGES}.gz"
    path.write_bytes(path.read_bytes()[:-100])


def _not_gzip(directory: Path) -> None:
    (directory / f"{TRAIN_IMAGES}.gz").write_bytes(b"this is not gzip data at all")


def _corrupt_deflate(directory: Path) -> None:
    path = directory / f"{TRAIN_IMAGES}.gz"
    raw = bytearray(path.read_bytes())
    raw[20:60] = bytes(40)
    path.write_bytes(bytes(raw))


def _bad_magic(directory: Path) -> None:
    write(directory, TRAIN_IMAGES, b"\x00\x00\x09\x03" + idx_bytes(np.zeros((12, 28, 28)))[4:])


def _short_payload(directory: Path) -> None:
    write(directory, TRAIN_IMAGES, idx_bytes(np.zeros((12, 28, 28)))[:-1])


def _short_header(directory: Path) -> None:
    write(directory, TRAIN_IMAGES, b"\x00\x00\x08")


def _wrong_size(directory: Path) -> None:
    write(directory, TRAIN_IMAGES, idx_bytes(np.zeros((12, 27, 28))))


def _label_count(directory: Path) -> None:
    write(directory, TRAIN_LABELS, idx_bytes(np.zeros(11)))


def _label_range(directory: Path) -> None:
    write(directory, TRAIN_LABELS, idx_bytes(np.full(12, 10)))


@pytest.mark.parametrize(
    ("corrupt", "stem", "fragment"),
    [
        (_truncate_gzip, TRAIN_IMAGES, "truncated gzip"),
        (_not_gzip, TRAIN_IMAGES, "not a valid gzip"),
        (_corrupt_deflate, TRAIN_IMAGES, "gzip"),
        (_bad_magic, TRAIN_IMAGES, "magic number"),
        (_short_payload, TRAIN_IMAGES, "truncated"),
        (_short_header, TRAIN_IMAGES, "too short"),
        (_wrong_size, TRAIN_IMAGES, "27x28"),
        (_label_count, TRAIN_LABELS, "11 labels for 12 images"),
        (_label_range, TRAIN_LABELS, "outside 0..9"),
    ],
)
def test_corrupt_files_raise_data_error_naming_the_file(
    tmp_path: Path, corrupt, stem: str, fragment: str
) -> None:
    make_mnist(tmp_path)
    corrupt(tmp_path)
    with pytest.raises(DataError) as excinfo:
        load_dataset("mnist", tmp_path)
    assert_one_line_error(excinfo, stem, fragment)


def test_sha256sums_are_checked(tmp_path: Path) -> None:
    make_mnist(tmp_path)
    names = [f"{s}.gz" for s in (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)]
    write_sums(tmp_path, names)
    load_dataset("mnist", tmp_path)  # matching sums pass

    write(tmp_path, TEST_LABELS, idx_bytes(np.zeros(5)))  # valid file, but not the listed one
    with pytest.raises(DataError) as excinfo:
        load_dataset("mnist", tmp_path)
    assert_one_line_error(excinfo, f"{TEST_LABELS}.gz", "SHA-256 mismatch")


def test_malformed_sha256sums_is_a_data_error(tmp_path: Path) -> None:
    make_mnist(tmp_path)
    (tmp_path / SUMS_FILE).write_text("not-a-digest  train-images-idx3-ubyte.gz\n")
    with pytest.raises(DataError, match=f"{SUMS_FILE}:1"):
        load_dataset("mnist", tmp_path)


@pytest.mark.mnist
def test_real_mnist() -> None:
    if not REAL_MNIST.is_dir():
        pytest.skip(f"real MNIST not found at {REAL_MNIST}")
    sums = Checksums.load(REAL_MNIST)
    names = [f"{s}.gz" for s in (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)]
    assert set(names) <= set(sums.digests), "SHA256SUMS should cover all four files"

    ds = load_dataset("mnist", REAL_MNIST)  # raises DataError on any checksum mismatch

    assert ds.x_train.shape == (60000, 1, 28, 28) and ds.x_test.shape == (10000, 1, 28, 28)
    assert ds.num_classes == 10
    for y, n in ((ds.y_train, 60000), (ds.y_test, 10000)):
        counts = np.bincount(y, minlength=10)
        assert len(counts) == 10 and counts.sum() == n
        assert counts.min() > 0.08 * n and counts.max() < 0.12 * n
    assert abs(float(ds.x_train.mean())) < 1e-3 and abs(float(ds.x_train.std()) - 1) < 1e-3
