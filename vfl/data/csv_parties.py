"""A dataset that arrives already split vertically: one CSV per party.

This is how VFL data looks in practice: the active party has ``id,label``
(and maybe ``split``), each passive party has ``id`` plus its own features,
and the rows only line up through the ids. The loader joins them on ``id``
and records which columns came from which file in ``Dataset.party_columns``,
so the simulated split is the real one rather than a random cut.

Layout of the data directory::

    active.csv     id,label[,split]      split is "train" or "test"
    party-0.csv    id,<features...>      any header names, numeric values
    party-1.csv    ...

Ids are compared as strings (after trimming spaces), in any order per file.
Party files may hold extra ids; only those in ``active.csv`` are used.
scikit-learn is imported when a file loads, not when the name registers.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from vfl.data.base import Dataset
from vfl.data.csvfile import CsvTable, read_table
from vfl.data.files import require_dir
from vfl.data.tables import TEST_FRACTION, encode_labels, rows_of, split_column
from vfl.errors import DataError

__all__ = ["ACTIVE_FILE", "load_csv", "party_file_name"]

NAME = "csv"
ACTIVE_FILE = "active.csv"


def party_file_name(index: int) -> str:
    return f"party-{index}.csv"


def _ids(table: CsvTable) -> list[str]:
    return table.ids("id")


def _features(table: CsvTable, id_col: int) -> np.ndarray:
    """All non-id columns as float64."""
    cols = [c for c in range(len(table.header)) if c != id_col]
    if not cols:
        raise DataError(f"{table.path}: no feature columns besides 'id'")
    return table.numeric(cols)


def _party_paths(directory: Path) -> list[Path]:
    """``party-0.csv, party-1.csv, ...``; a gap means a party's file was forgotten."""
    found: dict[int, Path] = {}
    for path in directory.glob("party-*.csv"):
        suffix = path.stem.removeprefix("party-")
        if not suffix.isdigit() or str(int(suffix)) != suffix:
            raise DataError(f"{path}: party files must be named party-0.csv, party-1.csv, ...")
        found[int(suffix)] = path
    for k in range(len(found) or 1):
        if k not in found:
            raise DataError(
                f"{NAME}: missing {directory / party_file_name(k)} "
                "(passive party files are numbered from 0 without gaps)"
            )
    return [found[k] for k in range(len(found))]


def _split(
    table: CsvTable, y: np.ndarray, class_names: list[str], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of train and test, each in file order."""
    is_train = split_column(table)
    if is_train is None:
        return _stratified_split(table.path, y, class_names, seed)
    if is_train.all() or not is_train.any():
        raise DataError(f"{table.path}: the split column needs both 'train' and 'test' rows")
    return np.flatnonzero(is_train), np.flatnonzero(~is_train)


def _stratified_split(
    path: Path, y: np.ndarray, class_names: list[str], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified so that rare classes still reach the test set; checked first so the
    error names the label as written in the file, not its encoded index."""
    singles = np.flatnonzero(np.bincount(y, minlength=len(class_names)) < 2)
    if singles.size:
        raise DataError(
            f"{path}: label {class_names[singles[0]]!r} has only one row, too few for a "
            "stratified 75/25 split; add rows or a 'split' column"
        )
    from sklearn.model_selection import train_test_split

    try:
        train, test = train_test_split(
            np.arange(len(y)), test_size=TEST_FRACTION, random_state=seed, stratify=y
        )
    except ValueError as e:
        raise DataError(
            f"{path}: cannot make a stratified 75/25 split ({e}); add a 'split' column"
        ) from e
    return np.sort(train), np.sort(test)


def load_csv(data_dir: Path | None, seed: int) -> Dataset:
    """Join the per-party files on ``id``; ``seed`` drives the split when none is given."""
    directory = require_dir(data_dir, NAME)
    active = read_table(directory / ACTIVE_FILE)
    ids = _ids(active)
    y, class_names = encode_labels(active, "label")
    blocks = []
    for path in _party_paths(directory):
        table = read_table(path)
        rows = rows_of(str(table.path), _ids(table), ids)
        blocks.append(_features(table, table.column("id"))[rows])
    from sklearn.preprocessing import StandardScaler

    train, test = _split(active, y, class_names, seed)
    x = np.concatenate(blocks, axis=1)
    scaler = StandardScaler().fit(x[train])
    return Dataset(
        name=NAME,
        kind="tabular",
        x_train=scaler.transform(x[train]).astype(np.float32),
        y_train=y[train],
        x_test=scaler.transform(x[test]).astype(np.float32),
        y_test=y[test],
        num_classes=len(class_names),
        party_columns=_party_columns([b.shape[1] for b in blocks]),
        class_names=class_names,
    )


def _party_columns(widths: list[int]) -> list[list[int]]:
    """Each party's files sit side by side in ``x``, in party order."""
    offsets = itertools.accumulate(widths, initial=0)
    return [list(range(a, b)) for a, b in itertools.pairwise(offsets)]
