"""Raw-file helpers shared by the sources that read a data directory.

Every way a file can be unusable (missing, unreadable, truncated or corrupt
gzip, wrong checksum) surfaces as a single-line :class:`DataError` that names
the file. The CLI can then print it as is, and no ``OSError``, ``EOFError`` or
``zlib.error`` reaches the user as a traceback.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vfl.data.base import Dataset
from vfl.errors import DataError

__all__ = [
    "SUMS_FILE",
    "Checksums",
    "find_file",
    "image_dataset",
    "read_checked",
    "read_raw",
    "require_dir",
    "standardise_pixels",
]

SUMS_FILE = "SHA256SUMS"
_HIST_CHUNK = 1 << 22  # pixels per bincount call, which keeps its intp copy small


def require_dir(data_dir: Path | None, dataset: str) -> Path:
    """Fail early with the directory in the message, not later on its first file."""
    if data_dir is None:
        raise DataError(f"{dataset}: no data directory given; pass --data-dir DIR")
    if not data_dir.is_dir():
        raise DataError(f"{dataset}: data directory {data_dir} does not exist")
    return data_dir


def find_file(directory: Path, names: Sequence[str], dataset: str) -> Path:
    """The first of ``names`` present in ``directory``: sources accept a few spellings."""
    for name in names:
        path = directory / name
        if path.is_file():
            return path
    raise DataError(f"{dataset}: missing {' or '.join(names)} in {directory}")


def read_raw(path: Path) -> bytes:
    """The file's bytes exactly as stored, which is what a checksum covers."""
    try:
        return path.read_bytes()
    except FileNotFoundError as e:
        raise DataError(f"{path}: file not found") from e
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from e


def _gunzip(path: Path, raw: bytes) -> bytes:
    """Decompress in memory: one call, so parsers can ``np.frombuffer`` the result."""
    try:
        return gzip.decompress(raw)
    except EOFError as e:
        raise DataError(f"{path}: truncated gzip file (it ends mid-stream)") from e
    except gzip.BadGzipFile as e:
        raise DataError(f"{path}: not a valid gzip file ({e})") from e
    except (OSError, zlib.error) as e:
        raise DataError(f"{path}: corrupt gzip data ({e})") from e


@dataclass(frozen=True)
class Checksums:
    """The ``SHA256SUMS`` at the top of a data directory, if there is one.

    Names are paths relative to that directory, as ``sha256sum`` writes them
    when run there. Only files a source actually reads are checked, so a list
    that also covers other files (or other spellings) is fine.
    """

    root: Path
    digests: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path) -> Checksums:
        path = root / SUMS_FILE
        if not path.is_file():
            return cls(root)
        try:
            text = read_raw(path).decode("utf-8")
        except UnicodeDecodeError as e:
            raise DataError(f"{path}: not a text file ({e.reason})") from e
        return cls(root, _parse_sums(path, text))

    def verify(self, path: Path, raw: bytes) -> None:
        try:
            key = path.relative_to(self.root).as_posix()
        except ValueError:
            return
        expected = self.digests.get(key)
        if expected is None:
            return
        actual = hashlib.sha256(raw).hexdigest()
        if actual != expected:
            raise DataError(
                f"{path}: SHA-256 mismatch with {SUMS_FILE} (expected {expected[:16]}..., "
                f"got {actual[:16]}...): the file is corrupt or not the listed one"
            )


def _parse_sums(path: Path, text: str) -> dict[str, str]:
    """Accept ``sha256sum`` output: ``<64 hex>  name`` or ``<64 hex> *name`` (binary mode)."""
    digests: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        digest, _, name = line.strip().partition(" ")
        name = name.lstrip(" *").removeprefix("./")
        if len(digest) != 64 or not name or any(c not in "0123456789abcdefABCDEF" for c in digest):
            raise DataError(f"{path}:{lineno}: expected '<sha256 hex>  <file name>', got {line!r}")
        digests[name] = digest.lower()
    return digests


def read_checked(path: Path, sums: Checksums) -> bytes:
    """Read, verify against ``sums``, and gunzip if the name ends in ``.gz``."""
    raw = read_raw(path)
    sums.verify(path, raw)
    return _gunzip(path, raw) if path.suffix == ".gz" else raw


def standardise_pixels(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map uint8 ``[n, C, H, W]`` pixels to [0, 1], then to zero mean and unit variance.

    Mean and std are per channel (one scalar for greyscale) and come from the
    training images only, so nothing about the test set leaks into the
    scaling. They are computed from a 256-bin histogram: exact in float64
    without a float copy of the whole set.
    """
    params = [_channel_affine(train[:, c]) for c in range(train.shape[1])]
    return _apply_affine(train, params), _apply_affine(test, params)


def image_dataset(
    name: str,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    class_names: Sequence[str],
) -> Dataset:
    """An image dataset from uint8 ``(images, labels)`` read from files, pixels standardised."""
    x_train, x_test = standardise_pixels(train[0], test[0])
    return Dataset(
        name=name,
        kind="image",
        x_train=x_train,
        y_train=train[1],
        x_test=x_test,
        y_test=test[1],
        num_classes=len(class_names),
        class_names=list(class_names),
    )


def _channel_affine(pixels: np.ndarray) -> tuple[float, float]:
    """``(scale, shift)`` with ``x = p * scale - shift`` equal to ``(p/255 - mean) / std``."""
    counts = _histogram(pixels)
    levels = np.arange(256, dtype=np.float64) / 255.0
    mean = float(counts @ levels) / counts.sum()
    std = float(np.sqrt(counts @ (levels - mean) ** 2 / counts.sum())) or 1.0
    return 1.0 / (255.0 * std), mean / std


def _histogram(pixels: np.ndarray) -> np.ndarray:
    per_row = max(1, int(np.prod(pixels.shape[1:])))
    step = max(1, _HIST_CHUNK // per_row)
    counts = np.zeros(256, dtype=np.int64)
    for start in range(0, len(pixels), step):
        counts += np.bincount(pixels[start : start + step].ravel(), minlength=256)
    return counts


def _apply_affine(pixels: np.ndarray, params: list[tuple[float, float]]) -> np.ndarray:
    out = pixels.astype(np.float32)
    for c, (scale, shift) in enumerate(params):
        out[:, c] *= np.float32(scale)
        out[:, c] -= np.float32(shift)
    return out
