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

import csv
import io
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np

from vfl.data.base import Dataset
from vfl.data.files import read_raw, require_dir
from vfl.errors import DataError

__all__ = ["ACTIVE_FILE", "load_csv", "party_file_name"]

NAME = "csv"
ACTIVE_FILE = "active.csv"
TEST_FRACTION = 0.25
_SPLITS = ("train", "test")


def party_file_name(index: int) -> str:
    return f"party-{index}.csv"


@dataclass(frozen=True)
class _Table:
    """A CSV with its header split off and line numbers kept for error messages."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    lines: list[int]

    def column(self, name: str) -> int:
        """Index of a required column; header names match case-insensitively."""
        lowered = [h.lower() for h in self.header]
        if name not in lowered:
            raise DataError(f"{self.path}: no {name!r} column (header: {','.join(self.header)})")
        return lowered.index(name)

    def optional_column(self, name: str) -> int | None:
        return self.column(name) if name in (h.lower() for h in self.header) else None

    def values(self, col: int) -> list[str]:
        return [row[col].strip() for row in self.rows]


def _read_table(path: Path) -> _Table:
    try:
        text = read_raw(path).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    reader = csv.reader(io.StringIO(text))
    try:
        records = [(reader.line_num, row) for row in reader if row]
    except csv.Error as e:
        raise DataError(f"{path}:{reader.line_num}: malformed CSV ({e})") from e
    if not records:
        raise DataError(f"{path}: empty file (expected a header row)")
    header = [h.strip() for h in records[0][1]]
    _check_shape(path, header, records[1:])
    return _Table(path, header, [r for _, r in records[1:]], [n for n, _ in records[1:]])


def _check_shape(path: Path, header: list[str], records: list[tuple[int, list[str]]]) -> None:
    lowered = [h.lower() for h in header]
    dupes = sorted({h for h in lowered if lowered.count(h) > 1})
    if dupes:
        raise DataError(f"{path}: column {dupes[0]!r} appears more than once in the header")
    if not records:
        raise DataError(f"{path}: header only, no data rows")
    for line, row in records:
        if len(row) != len(header):
            raise DataError(f"{path}:{line}: {len(row)} fields, but the header has {len(header)}")


def _ids(table: _Table) -> list[str]:
    """The id column, refusing blanks and duplicates: either would make the join ambiguous."""
    ids = table.values(table.column("id"))
    seen: dict[str, int] = {}
    for line, value in zip(table.lines, ids, strict=True):
        if not value:
            raise DataError(f"{table.path}:{line}: empty id")
        if value in seen:
            raise DataError(
                f"{table.path}:{line}: duplicate id {value!r} (first on line {seen[value]})"
            )
        seen[value] = line
    return ids


def _features(table: _Table, id_col: int) -> np.ndarray:
    """All non-id columns as float64; the slow cell-by-cell scan runs only to word an error."""
    cols = [c for c in range(len(table.header)) if c != id_col]
    if not cols:
        raise DataError(f"{table.path}: no feature columns besides 'id'")
    cells = [[row[c] for c in cols] for row in table.rows]
    try:
        x = np.array(cells, dtype=np.float64)
    except ValueError:
        _raise_bad_cell(table, cols)
    if not np.isfinite(x).all():
        _raise_bad_cell(table, cols)
    return x


def _raise_bad_cell(table: _Table, cols: list[int]) -> NoReturn:
    for line, row in zip(table.lines, table.rows, strict=True):
        for c in cols:
            try:
                ok = np.isfinite(float(row[c]))
            except ValueError:
                ok = False
            if not ok:
                raise DataError(
                    f"{table.path}:{line}: column {table.header[c]!r} has {row[c]!r}, "
                    "expected a finite number"
                )
    raise DataError(f"{table.path}: features are not all numeric")  # unreachable in practice


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


def _aligned(table: _Table, wanted: list[str]) -> np.ndarray:
    """Row indices of ``table`` in the order of ``wanted`` ids (the active party's order)."""
    position = {value: i for i, value in enumerate(_ids(table))}
    missing = [w for w in wanted if w not in position]
    if missing:
        raise DataError(
            f"{table.path}: id {missing[0]!r} from {ACTIVE_FILE} is missing "
            f"({len(missing)} of {len(wanted)} ids missing)"
        )
    return np.fromiter((position[w] for w in wanted), dtype=np.int64, count=len(wanted))


def _encode_labels(table: _Table) -> tuple[np.ndarray, list[str]]:
    """Sorted unique labels become 0..C-1; integer labels sort numerically (9 before 10)."""
    raw = table.values(table.column("label"))
    for line, value in zip(table.lines, raw, strict=True):
        if not value:
            raise DataError(f"{table.path}:{line}: empty label")
    try:
        names = sorted(set(raw), key=int)
    except ValueError:
        names = sorted(set(raw))
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[v] for v in raw], dtype=np.int64), names


def _split(
    table: _Table, y: np.ndarray, class_names: list[str], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of train and test, each in file order."""
    col = table.optional_column("split")
    if col is None:
        return _stratified_split(table.path, y, class_names, seed)
    values = [v.lower() for v in table.values(col)]
    for line, value in zip(table.lines, values, strict=True):
        if value not in _SPLITS:
            raise DataError(f"{table.path}:{line}: split must be 'train' or 'test', got {value!r}")
    is_train = np.array([v == "train" for v in values])
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
    active = _read_table(directory / ACTIVE_FILE)
    ids = _ids(active)
    y, class_names = _encode_labels(active)
    blocks = []
    for path in _party_paths(directory):
        table = _read_table(path)
        blocks.append(_features(table, table.column("id"))[_aligned(table, ids)])
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
