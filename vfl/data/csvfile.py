"""Reading one party's CSV file: header, rows, IDs, numeric and categorical columns.

Every error names the file, and where it can the line and the column, so an
organisation preparing its own table sees at once which cell to fix. Column
names match case-insensitively, because hand-written headers vary.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np

from vfl.data.files import read_raw
from vfl.errors import DataError

__all__ = ["CsvTable", "read_table"]


@dataclass(frozen=True)
class CsvTable:
    """A CSV with its header split off and line numbers kept for error messages."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    lines: list[int]

    def column(self, name: str) -> int:
        """Index of a required column; header names match case-insensitively."""
        lowered = [h.lower() for h in self.header]
        if name.lower() not in lowered:
            raise DataError(f"{self.path}: no {name!r} column (header: {','.join(self.header)})")
        return lowered.index(name.lower())

    def optional_column(self, name: str) -> int | None:
        return self.column(name) if name.lower() in (h.lower() for h in self.header) else None

    def values(self, col: int) -> list[str]:
        return [row[col].strip() for row in self.rows]

    def ids(self, name: str) -> list[str]:
        """The ID column, refusing blanks and duplicates: either would make a join ambiguous."""
        ids = self.values(self.column(name))
        seen: dict[str, int] = {}
        for line, value in zip(self.lines, ids, strict=True):
            if not value:
                raise DataError(f"{self.path}:{line}: empty id")
            if value in seen:
                raise DataError(
                    f"{self.path}:{line}: duplicate id {value!r} (first on line {seen[value]})"
                )
            seen[value] = line
        return ids

    def numeric(self, cols: list[int]) -> np.ndarray:
        """``cols`` as float64; the slow cell-by-cell scan runs only to word an error."""
        cells = [[row[c] for c in cols] for row in self.rows]
        try:
            x = np.array(cells, dtype=np.float64).reshape(len(self.rows), len(cols))
        except ValueError:
            self._raise_bad_cell(cols)
        if not np.isfinite(x).all():
            self._raise_bad_cell(cols)
        return x

    def one_hot(self, col: int, levels: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
        """A declared categorical column as 0/1 columns, one per value (sorted, as written);
        ``levels``: the columns to make (another file's); a value not among them is all 0."""
        values = self.values(col)
        for line, value in zip(self.lines, values, strict=True):
            if not value:
                raise DataError(f"{self.path}:{line}: column {self.header[col]!r} is empty")
        levels = sorted(set(values)) if levels is None else levels
        index = {v: i for i, v in enumerate(levels)}
        out = np.zeros((len(values), len(levels)), dtype=np.float64)
        known = [(row, index[v]) for row, v in enumerate(values) if v in index]
        if known:
            rows, cols = zip(*known, strict=True)
            out[list(rows), list(cols)] = 1.0
        return out, [f"{self.header[col]}={v}" for v in levels]

    def _raise_bad_cell(self, cols: list[int]) -> NoReturn:
        for line, row in zip(self.lines, self.rows, strict=True):
            for c in cols:
                try:
                    ok = np.isfinite(float(row[c]))
                except ValueError:
                    ok = False
                if not ok:
                    raise DataError(
                        f"{self.path}:{line}: column {self.header[c]!r} has {row[c]!r}, "
                        "expected a finite number (declare text columns with --categorical)"
                    )
        raise DataError(f"{self.path}: features are not all numeric")  # unreachable in practice


def read_table(path: Path) -> CsvTable:
    """Parse ``path``: UTF-8 (a BOM is fine), a header, and rows as wide as the header."""
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
    return CsvTable(path, header, [r for _, r in records[1:]], [n for n, _ in records[1:]])


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
