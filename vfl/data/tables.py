"""Per-party tables: what each organisation holds before the federation is aligned.

A passive party holds a :class:`FeatureTable` (its own string IDs and its own
columns, no labels); the active party holds a :class:`LabelTable` (IDs, labels
with their class names as written, an optional ``split`` column). Files and the
built-in datasets produce the same tables (:func:`read_feature_table`,
:func:`read_label_table`, :func:`tables_of`), so every party is built one way.

Alignment (private set intersection, then the active party's split) yields a
:class:`SampleIndex`; a table turns into the shard a party trains on with
:meth:`FeatureTable.shard` / :meth:`LabelTable.shard`. Wire sample IDs stay int64:
position ``k`` is the ``k``-th ID of ``index.train + index.test``. Preprocessing
of a file's columns is fit here, on the party's own *training* rows, which is the
first moment anyone knows which rows those are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from vfl.data.base import Dataset, LabelShard, PartyShard
from vfl.data.csvfile import CsvTable, read_table
from vfl.errors import ConfigError, DataError, UnknownSampleError

__all__ = [
    "TEST_FRACTION",
    "FeatureTable",
    "FederationTables",
    "LabelTable",
    "SampleIndex",
    "encode_labels",
    "feature_table_of",
    "label_table_of",
    "read_feature_table",
    "read_label_table",
    "resolve_classes",
    "rows_of",
    "split_column",
    "tables_of",
]

TEST_FRACTION = 0.25
_SPLITS = ("train", "test")


@dataclass(frozen=True)
class SampleIndex:
    """The aligned samples, each list sorted: wire position ``k`` is ``ids[k]``.

    Sorted, so the order tells a passive party nothing about the active party's
    file (a file sorted by label would otherwise leak the labels' order).
    """

    train: tuple[str, ...]
    test: tuple[str, ...]
    score: tuple[str, ...] = ()
    """Shared IDs the active party holds no label for (``--score-data``): scored by
    ``vfl predict``, never trained or evaluated on. Their positions follow train and test,
    so adding them leaves every earlier position, and so the trained model, as it was."""

    def __post_init__(self) -> None:
        parts = (("train", self.train), ("test", self.test), ("score", self.score))
        for name, part in parts:
            if list(part) != sorted(part):
                raise DataError(f"sample index: the {name} IDs must be sorted")
        if len(set(self.ids)) != len(self.ids):
            raise DataError("sample index: an ID is in more than one of train, test and score")

    @property
    def ids(self) -> tuple[str, ...]:
        return self.train + self.test + self.score

    @property
    def labelled(self) -> tuple[str, ...]:
        """The IDs with a label at the active party: train then test."""
        return self.train + self.test

    @property
    def train_positions(self) -> np.ndarray:
        return np.arange(len(self.train), dtype=np.int64)

    @property
    def test_positions(self) -> np.ndarray:
        return np.arange(len(self.train), len(self.labelled), dtype=np.int64)

    @cached_property
    def _position(self) -> dict[str, int]:
        return {value: k for k, value in enumerate(self.ids)}

    def positions(self, wanted: Sequence[str]) -> np.ndarray:
        """Wire positions of aligned IDs; one error naming how many are not aligned."""
        missing = [w for w in wanted if w not in self._position]
        if missing:
            raise UnknownSampleError(
                f"{len(missing)} of {len(wanted)} IDs are not in the aligned index "
                f"(first: {missing[0]!r}); only IDs every party holds can be scored"
            )
        return np.fromiter((self._position[w] for w in wanted), dtype=np.int64, count=len(wanted))


def rows_of(source: str, ids: Sequence[str], wanted: Sequence[str]) -> np.ndarray:
    """Row of each wanted ID; one error naming how many are not in the table."""
    position = {value: i for i, value in enumerate(ids)}
    missing = [w for w in wanted if w not in position]
    if missing:
        raise DataError(
            f"{source}: {len(missing)} of {len(wanted)} IDs missing from this table "
            f"(first: id {missing[0]!r})"
        )
    return np.fromiter((position[w] for w in wanted), dtype=np.int64, count=len(wanted))


def _given(source: str, index: SampleIndex | None) -> SampleIndex:
    if index is None:
        raise DataError(f"{source}: not aligned yet (run `vfl align`)")
    return index


@dataclass(frozen=True, eq=False)
class FeatureTable:
    """One party's own columns, keyed by its own IDs. There is no label field.

    ``standardize``: fit zero mean / unit variance on the training rows when the
    index arrives (files); built-in datasets arrive scaled by their loader and
    ``index`` set (every party of a demo agrees on it from the shared seed).
    """

    ids: tuple[str, ...]
    features: np.ndarray
    columns: tuple[str, ...]
    source: str
    standardize: bool = True
    index: SampleIndex | None = None

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.features):
            raise DataError(f"{self.source}: {len(self.ids)} IDs for {len(self.features)} rows")
        if len(set(self.ids)) != len(self.ids):
            raise DataError(f"{self.source}: IDs must be unique")

    @property
    def feature_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.features.shape[1:])

    def shard(self, party_id: str, index: SampleIndex | None = None) -> PartyShard:
        """The rows of ``index`` (default: the one it arrived with) in wire order,
        preprocessed on its training rows."""
        index = _given(self.source, index or self.index)
        x = self.features[rows_of(self.source, self.ids, index.ids)]
        if self.standardize:
            from sklearn.preprocessing import StandardScaler

            flat = x.reshape(len(x), -1)
            scaler = StandardScaler().fit(flat[: len(index.train)])
            x = scaler.transform(flat).reshape(x.shape)
        return PartyShard(
            party_id=party_id,
            ids=np.arange(len(index.ids), dtype=np.int64),
            features=np.ascontiguousarray(x, dtype=np.float32),
        )


@dataclass(frozen=True, eq=False)
class LabelTable:
    """The active party's IDs, labels (``0..C-1`` into ``class_names``) and optional split."""

    ids: tuple[str, ...]
    labels: np.ndarray
    class_names: tuple[str, ...]
    source: str
    is_train: np.ndarray | None = None
    index: SampleIndex | None = None
    score_ids: tuple[str, ...] = ()
    """IDs to score that have no label here (``--score-data``): aligned, never trained on."""

    def __post_init__(self) -> None:
        if len(self.class_names) < 2:
            raise DataError(
                f"{self.source}: the labels hold {len(self.class_names)} class "
                f"({', '.join(map(repr, self.class_names))}); a classifier needs at least 2"
            )
        labelled = set(self.ids)
        both = [i for i in self.score_ids if i in labelled]
        if both:
            raise DataError(
                f"{self.source}: {len(both)} scoring IDs also have a label (first: {both[0]!r}); "
                "a scoring row must be a sample the labels do not hold"
            )

    @property
    def psi_ids(self) -> tuple[str, ...]:
        """The IDs the active party aligns with: labelled ones and ones to score."""
        return self.ids + self.score_ids

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def split(self, shared: Iterable[str], seed: int) -> SampleIndex:
        """Train and test IDs among ``shared``: the ``split`` column, else a seeded shuffle.

        The seeded split is deliberately *not* stratified by class: which IDs are
        test would then carry information about their labels.
        """
        own = set(self.ids)
        ids = sorted(i for i in set(shared) if i in own)
        if not ids:
            raise DataError(f"{self.source}: no ID is held by every party (empty intersection)")
        if self.is_train is not None:
            mask = self.is_train[rows_of(self.source, self.ids, ids)]
            train, test = (
                [i for i, t in zip(ids, mask, strict=True) if t],
                [i for i, t in zip(ids, mask, strict=True) if not t],
            )
        else:
            if len(ids) < 2:
                raise DataError(f"{self.source}: only 1 shared ID, too few for a train/test split")
            order = np.random.default_rng(seed).permutation(len(ids))
            n_test = min(len(ids) - 1, max(1, round(TEST_FRACTION * len(ids))))
            test_rows = set(order[:n_test].tolist())
            train = [i for k, i in enumerate(ids) if k not in test_rows]
            test = [i for k, i in enumerate(ids) if k in test_rows]
        if not train or not test:
            raise DataError(
                f"{self.source}: the shared IDs are all {'train' if train else 'test'} "
                "by the split column; the federation needs both"
            )
        score = sorted(set(shared).intersection(self.score_ids))
        return SampleIndex(tuple(train), tuple(test), tuple(score))

    def shard(self, index: SampleIndex | None = None) -> LabelShard:
        """Labels by wire position (train then test)."""
        index = _given(self.source, index or self.index)
        labels = self.labels[rows_of(self.source, self.ids, index.labelled)]
        return LabelShard(
            train_ids=index.train_positions,
            test_ids=index.test_positions,
            labels=labels.astype(np.int64),
            num_classes=self.num_classes,
            class_names=self.class_names,
        )


@dataclass(frozen=True)
class FederationTables:
    """Every party's table of one federation (only simulations and tests hold all of them)."""

    labels: LabelTable
    passive: list[FeatureTable]


def resolve_classes(values: Iterable[str], names: Sequence[str]) -> list[int]:
    """Classes given as text, as indices: a class name as written in the label file, or an
    index. A name wins over an index (with names ``"1","2","3"``, ``"3"`` is the third
    class); anything else is one error listing the names."""
    values = list(values)
    if len(values) > len(names):  # bounded before any scan: there are only so many classes
        raise ConfigError(f"{len(values)} classes given; the labels hold {len(names)}")
    out = []
    for value in values:
        if value in names:
            out.append(list(names).index(value))
        elif value.lstrip("-").isdigit() and len(value) <= 9:
            out.append(int(value))  # the range is checked with the other classes
        else:
            raise ConfigError(f"class {value} is not one of the classes ({', '.join(names)})")
    return out


# -- files -------------------------------------------------------------------------
def encode_labels(table: CsvTable, column: str) -> tuple[np.ndarray, list[str]]:
    """Sorted unique labels become 0..C-1; integer labels sort numerically (9 before 10)."""
    raw = table.values(table.column(column))
    for line, value in zip(table.lines, raw, strict=True):
        if not value:
            raise DataError(f"{table.path}:{line}: empty label")
    try:
        names = sorted(set(raw), key=int)
    except ValueError:
        names = sorted(set(raw))
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[v] for v in raw], dtype=np.int64), names


def split_column(table: CsvTable, column: str = "split") -> np.ndarray | None:
    """``True`` for train rows, from a column of ``train``/``test``; ``None`` if absent."""
    col = table.optional_column(column)
    if col is None:
        return None
    values = [v.lower() for v in table.values(col)]
    for line, value in zip(table.lines, values, strict=True):
        if value not in _SPLITS:
            raise DataError(f"{table.path}:{line}: split must be 'train' or 'test', got {value!r}")
    return np.array([v == "train" for v in values])


def read_feature_table(
    path: Path, id_column: str = "id", categorical: Sequence[str] = (), score: Path | None = None
) -> FeatureTable:
    """A party's own CSV: its ID column, numeric columns, declared categoricals one-hot.

    ``score``: a second file of the same columns for new samples (``--score-data``),
    appended after ``path``'s rows. Categorical levels are ``path``'s alone, so the
    model's input width does not depend on which new rows arrive; a level only the
    scoring file has is encoded as all zeros (scikit-learn's ``handle_unknown="ignore"``).
    """
    main = read_table(path)
    tables = [main] if score is None else [main, read_table(score)]
    id_name = main.header[main.column(id_column)]
    wanted = {main.header[main.column(name)] for name in categorical} - {id_name}
    numeric = [h for h in main.header if h != id_name and h not in wanted]
    encoded = [h for h in main.header if h in wanted]  # the file's column order
    if not numeric and not encoded:
        raise DataError(f"{path}: no feature columns besides {id_name!r}")
    for extra in tables[1:]:
        _same_columns(main, extra)
    levels = {name: sorted(set(main.values(main.column(name)))) for name in encoded}
    blocks, names = [], list(numeric)
    for name in encoded:
        names += [f"{name}={v}" for v in levels[name]]
    for t in tables:
        parts = [t.numeric([t.column(n) for n in numeric])] if numeric else []
        parts += [t.one_hot(t.column(n), levels[n])[0] for n in encoded]
        blocks.append(np.concatenate(parts, axis=1))
    ids = _disjoint_ids(tables, id_column)
    return FeatureTable(tuple(ids), np.concatenate(blocks), tuple(names), str(path))


def _same_columns(main: CsvTable, extra: CsvTable) -> None:
    have, want = sorted(h.lower() for h in extra.header), sorted(h.lower() for h in main.header)
    if have != want:
        raise DataError(
            f"{extra.path}: its columns ({','.join(extra.header)}) must be those of "
            f"{main.path} ({','.join(main.header)})"
        )


def _disjoint_ids(tables: Sequence[CsvTable], id_column: str) -> list[str]:
    """Every table's IDs, in order; an ID in two of them is one error naming both files."""
    out: list[str] = []
    seen: dict[str, Path] = {}
    for table in tables:
        for value in table.ids(id_column):
            if value in seen:
                raise DataError(
                    f"{table.path}: id {value!r} is also in {seen[value]}; a scoring row "
                    "must be a new sample"
                )
            seen[value] = table.path
            out.append(value)
    return out


def read_label_table(
    path: Path,
    id_column: str = "id",
    label_column: str = "label",
    split: str = "split",
    score: Path | None = None,
) -> LabelTable:
    """The active party's CSV: IDs, labels as written, and an optional split column.

    ``score``: a CSV whose ID column lists new samples to score (other columns, such as
    the active party's own features, are read by its feature table, not here).
    """
    table = read_table(path)
    ids = table.ids(id_column)
    labels, names = encode_labels(table, label_column)
    score_ids = tuple(read_table(score).ids(id_column)) if score is not None else ()
    return LabelTable(
        tuple(ids), labels, tuple(names), str(path), split_column(table, split),
        score_ids=score_ids,
    )  # fmt: skip


# -- built-in datasets ---------------------------------------------------------------
def _builtin_index(dataset: Dataset) -> SampleIndex:
    """Zero-padded positions as IDs, so the sorted index is the dataset's own order
    (train then test) and results stay those of the whole-dataset code they replace."""
    n = dataset.n_train + dataset.n_test
    width = len(str(max(n - 1, 0)))
    ids = tuple(str(k).zfill(width) for k in range(n))
    return SampleIndex(ids[: dataset.n_train], ids[dataset.n_train :])


def feature_table_of(dataset: Dataset, cols: np.ndarray) -> FeatureTable:
    """A simulator's dataset as one passive party's table: its band of columns, no labels."""
    index = _builtin_index(dataset)
    x = np.concatenate([dataset.x_train, dataset.x_test])[..., cols]
    return FeatureTable(
        index.ids,
        np.ascontiguousarray(x, dtype=np.float32),
        tuple(f"column {c}" for c in cols),
        f"dataset {dataset.name!r}",
        standardize=False,
        index=index,
    )


def label_table_of(dataset: Dataset) -> LabelTable:
    """A simulator's dataset as the active party's table: labels and the split, no features."""
    index = _builtin_index(dataset)
    names = dataset.class_names or [str(c) for c in range(dataset.num_classes)]
    return LabelTable(
        index.ids,
        np.concatenate([dataset.y_train, dataset.y_test]).astype(np.int64),
        tuple(names),
        f"dataset {dataset.name!r}",
        np.arange(len(index.ids)) < dataset.n_train,
        index,
    )


def tables_of(dataset: Dataset, column_groups: list[np.ndarray]) -> FederationTables:
    """Every party's table of a simulator's dataset."""
    return FederationTables(
        label_table_of(dataset), [feature_table_of(dataset, cols) for cols in column_groups]
    )
