"""What a dataset is before and after it is split between parties.

A :class:`Dataset` is the whole table as a simulator sees it. In a real
federation nobody holds it: :func:`vfl.data.partition.split_vertically` cuts it
into one :class:`PartyShard` per passive party (its feature columns, keyed by
sample ID, no labels) and one :class:`LabelShard` for the active party (labels
and the train/test split, no features).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from vfl.errors import UnknownSampleError

__all__ = ["Dataset", "LabelShard", "PartyShard"]

Kind = Literal["image", "tabular"]


@dataclass(frozen=True)
class Dataset:
    """A labelled dataset with a fixed train/test split.

    ``x_*`` is float32: ``[n, C, H, W]`` for images, ``[n, F]`` for tables,
    already scaled (images to zero mean / unit variance, tables standardised
    with train statistics). ``y_*`` is int64 in ``[0, num_classes)``.
    ``party_columns`` is set only by sources that arrive already split
    (one CSV per party); it lists each party's column indices into ``x``.
    """

    name: str
    kind: Kind
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    party_columns: list[list[int]] | None = None
    class_names: list[str] = field(default_factory=list)

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])

    @property
    def n_columns(self) -> int:
        """How many columns a vertical split can distribute (image width or features)."""
        return int(self.x_train.shape[-1])

    @property
    def train_ids(self) -> np.ndarray:
        """Global sample IDs of the training rows: ``0 .. n_train-1``."""
        return np.arange(self.n_train, dtype=np.int64)

    @property
    def test_ids(self) -> np.ndarray:
        """Global sample IDs of the test rows: ``n_train .. n_train+n_test-1``."""
        return np.arange(self.n_train, self.n_train + self.n_test, dtype=np.int64)


@dataclass(frozen=True)
class PartyShard:
    """What one passive party holds: its own columns of every sample, by ID.

    There is deliberately no label field here.
    """

    party_id: str
    ids: np.ndarray  # int64 [n]
    features: np.ndarray  # float32 [n, ...]

    @property
    def feature_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.features.shape[1:])


@dataclass(frozen=True)
class LabelShard:
    """What the active party holds: labels and which IDs are train or test."""

    train_ids: np.ndarray
    test_ids: np.ndarray
    labels: np.ndarray  # int64, indexed by global sample ID
    num_classes: int
    class_names: tuple[str, ...] = ()
    """As written in the active party's file; ``str(c)`` when a source has none."""

    def class_name(self, c: int) -> str:
        return self.class_names[c] if c < len(self.class_names) else str(c)

    def labels_of(self, ids: np.ndarray) -> np.ndarray:
        """Labels of wire positions; a position past train and test (a scoring row) has none."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and not (ids.min() >= 0 and ids.max() < len(self.labels)):
            raise UnknownSampleError(
                f"sample position {int(ids.max() if ids.max() >= 0 else ids.min())} has no "
                f"label (there are {len(self.labels)} labelled samples; scoring rows have none)"
            )
        return self.labels[ids]

    def train_ids_of(self, classes: list[int] | np.ndarray) -> np.ndarray:
        """Training IDs whose label is in ``classes``, in training order."""
        mask = np.isin(self.labels[self.train_ids], np.asarray(classes))
        return self.train_ids[mask]
