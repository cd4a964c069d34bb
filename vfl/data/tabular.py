"""scikit-learn's bundled datasets (no download): digits, wine, breast-cancer.

scikit-learn is imported inside the functions: loading one dataset should not
import what the others need.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vfl.data.base import Dataset

__all__ = ["from_arrays", "load_breast_cancer", "load_digits", "load_wine"]


def from_arrays(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    test_size: float = 0.25,
    image_shape: tuple[int, int, int] | None = None,
    class_names: list[str] | None = None,
) -> Dataset:
    """A :class:`Dataset` with a stratified seeded split, standardised on train.

    With ``image_shape`` the rows are reshaped to ``[n, C, H, W]`` after scaling,
    so the vertical split cuts column bands instead of shuffled features.
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=y
    )
    scaler = StandardScaler().fit(x_tr)
    shape = (-1, *image_shape) if image_shape else (len(x_tr), -1)

    def scaled(part: np.ndarray) -> np.ndarray:
        return scaler.transform(part).astype(np.float32).reshape((len(part), *shape[1:]))

    return Dataset(
        name=name,
        kind="image" if image_shape else "tabular",
        x_train=scaled(x_tr),
        y_train=y_tr.astype(np.int64),
        x_test=scaled(x_te),
        y_test=y_te.astype(np.int64),
        num_classes=int(np.max(y)) + 1,
        class_names=list(class_names or []),
    )


def load_digits(_data_dir: Path | None, seed: int) -> Dataset:
    """8x8 digits (1,797 samples): an image, so parties get bands of pixel columns."""
    from sklearn.datasets import load_digits as load

    bunch = load()
    return from_arrays(
        "digits", bunch.data, bunch.target, seed, image_shape=(1, 8, 8), class_names=_names(bunch)
    )


def load_wine(_data_dir: Path | None, seed: int) -> Dataset:
    from sklearn.datasets import load_wine as load

    bunch = load()
    return from_arrays("wine", bunch.data, bunch.target, seed, class_names=_names(bunch))


def load_breast_cancer(_data_dir: Path | None, seed: int) -> Dataset:
    from sklearn.datasets import load_breast_cancer as load

    bunch = load()
    return from_arrays("breast-cancer", bunch.data, bunch.target, seed, class_names=_names(bunch))


def _names(bunch: object) -> list[str]:
    """The dataset's own class names (breast-cancer: malignant, benign)."""
    return [str(n) for n in bunch.target_names]  # type: ignore[attr-defined]
