"""Vertical partitioning: which columns each passive party holds."""

from __future__ import annotations

import numpy as np

from vfl.data.base import Dataset, LabelShard, PartyShard
from vfl.data.tables import feature_table_of, label_table_of
from vfl.errors import ConfigError

__all__ = ["column_groups", "label_shard", "party_shard", "passive_party_ids"]

MAX_PARTIES = 8


def passive_party_ids(n: int) -> list[str]:
    """Canonical party names: ``passive-0 .. passive-{n-1}``."""
    return [f"passive-{k}" for k in range(n)]


def column_groups(dataset: Dataset, parties: int, seed: int = 0) -> list[np.ndarray]:
    """Column indices per party.

    Images: contiguous bands of the width axis (as in the paper's left/right
    halves). Tables: a seeded permutation of the features cut into near-equal
    groups. Sources that arrive already split keep their own grouping.
    """
    if dataset.party_columns is not None:
        if parties != len(dataset.party_columns):
            raise ConfigError(
                f"dataset {dataset.name!r} is already split into "
                f"{len(dataset.party_columns)} parties; pass --parties {len(dataset.party_columns)}"
            )
        return [np.asarray(c, dtype=np.int64) for c in dataset.party_columns]
    if not 1 <= parties <= MAX_PARTIES:
        raise ConfigError(f"--parties must be between 1 and {MAX_PARTIES}, got {parties}")
    n_cols = dataset.n_columns
    if parties > n_cols:
        raise ConfigError(
            f"cannot split {n_cols} columns of {dataset.name!r} between {parties} parties"
        )
    order = np.arange(n_cols)
    if dataset.kind == "tabular":
        order = np.random.default_rng(seed).permutation(n_cols)
    return [np.sort(g) for g in np.array_split(order, parties)]


def party_shard(dataset: Dataset, parties: int, index: int, seed: int = 0) -> PartyShard:
    """The shard of passive party ``index``: its columns of train and test rows."""
    table = feature_table_of(dataset, column_groups(dataset, parties, seed)[index])
    return table.shard(passive_party_ids(parties)[index])


def label_shard(dataset: Dataset) -> LabelShard:
    """The active party's view: labels by global ID, and the split."""
    return label_table_of(dataset).shard()
