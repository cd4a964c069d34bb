"""Per-party CSV source: join on id, labels, split, party columns, bad files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from vfl.data import load_dataset, party_shard
from vfl.errors import DataError

N = 40
WIDTHS = (2, 3, 1)  # features per passive party


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def make_parties(
    directory: Path, labels: list[str] | None = None, with_split: bool = True, seed: int = 0
) -> dict:
    """Active file in id order, party files shuffled with an extra id; returns the truth."""
    rng = np.random.default_rng(seed)
    ids = [f"u{k:03d}" for k in rng.permutation(N)]
    labels = labels or [str(k % 3) for k in range(N)]
    split = ["test" if k % 4 == 0 else "train" for k in range(N)]
    header = ["id", "label"] + (["split"] if with_split else [])
    rows = [[i, y, s][: len(header)] for i, y, s in zip(ids, labels, split, strict=True)]
    write_csv(directory / "active.csv", header, rows)
    features = []
    for p, width in enumerate(WIDTHS):
        x = rng.normal(loc=10 * p, scale=p + 1, size=(N, width)).round(4)
        order = rng.permutation(N)
        body = [[ids[r], *x[r]] for r in order] + [["extra-id", *[0.0] * width]]
        write_csv(directory / f"party-{p}.csv", ["id", *[f"p{p}f{j}" for j in range(width)]], body)
        features.append(x)
    is_test = np.array([s == "test" for s in split])
    return {"ids": ids, "labels": labels, "x": np.concatenate(features, axis=1), "test": is_test}


def standardised(x: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    return (x[train] - mean) / std, (x[~train] - mean) / std


def test_join_with_shuffled_ids_and_given_split(tmp_path: Path) -> None:
    truth = make_parties(tmp_path)
    ds = load_dataset("csv", tmp_path, seed=0)

    train = ~truth["test"]
    x_train, x_test = standardised(truth["x"], train)
    assert ds.kind == "tabular" and ds.x_train.dtype == np.float32
    np.testing.assert_allclose(ds.x_train, x_train, atol=1e-5)
    np.testing.assert_allclose(ds.x_test, x_test, atol=1e-5)
    y = np.array([int(v) for v in truth["labels"]])
    np.testing.assert_array_equal(ds.y_train, y[train])
    np.testing.assert_array_equal(ds.y_test, y[~train])
    assert ds.party_columns == [[0, 1], [2, 3, 4], [5]]
    assert ds.num_classes == 3 and ds.class_names == ["0", "1", "2"]


def test_party_shard_gives_each_party_its_own_file(tmp_path: Path) -> None:
    truth = make_parties(tmp_path)
    ds = load_dataset("csv", tmp_path)
    x_train, x_test = standardised(truth["x"], ~truth["test"])
    expected = np.concatenate([x_train, x_test])
    start = 0
    for p, width in enumerate(WIDTHS):
        shard = party_shard(ds, parties=len(WIDTHS), index=p)
        assert shard.feature_shape == (width,)
        np.testing.assert_allclose(shard.features, expected[:, start : start + width], atol=1e-5)
        start += width


def test_string_labels_map_to_sorted_classes(tmp_path: Path) -> None:
    names = ["zebra", "ant", "moose", "ant"] * (N // 4)
    truth = make_parties(tmp_path, labels=names)
    ds = load_dataset("csv", tmp_path)
    assert ds.class_names == ["ant", "moose", "zebra"]
    y = np.array([ds.class_names.index(v) for v in truth["labels"]])
    np.testing.assert_array_equal(ds.y_train, y[~truth["test"]])


def test_integer_labels_sort_numerically(tmp_path: Path) -> None:
    make_parties(tmp_path, labels=["10", "9", "2", "9"] * (N // 4))
    assert load_dataset("csv", tmp_path).class_names == ["2", "9", "10"]


def test_without_split_column_a_seeded_stratified_split(tmp_path: Path) -> None:
    make_parties(tmp_path, labels=[str(k % 2) for k in range(N)], with_split=False)
    a, b = load_dataset("csv", tmp_path, seed=1), load_dataset("csv", tmp_path, seed=1)
    c = load_dataset("csv", tmp_path, seed=2)
    assert (a.n_train, a.n_test) == (30, 10)
    np.testing.assert_array_equal(np.bincount(a.y_test), [5, 5])
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.x_test, c.x_test)


def _drop_id(d: Path) -> None:
    lines = (d / "party-1.csv").read_text().splitlines()
    victim = next(line for line in lines[1:] if line.startswith("u007,"))
    (d / "party-1.csv").write_text("\n".join(x for x in lines if x != victim) + "\n")


def _text_feature(d: Path) -> None:
    lines = (d / "party-0.csv").read_text().splitlines()
    lines[3] = lines[3].split(",")[0] + ",abc,1.0"
    (d / "party-0.csv").write_text("\n".join(lines) + "\n")


def _nan_feature(d: Path) -> None:
    lines = (d / "party-2.csv").read_text().splitlines()
    lines[2] = lines[2].split(",")[0] + ",nan"
    (d / "party-2.csv").write_text("\n".join(lines) + "\n")


def _duplicate_active_id(d: Path) -> None:
    lines = (d / "active.csv").read_text().splitlines()
    (d / "active.csv").write_text("\n".join([*lines, lines[1]]) + "\n")


def _duplicate_party_id(d: Path) -> None:
    lines = (d / "party-2.csv").read_text().splitlines()
    (d / "party-2.csv").write_text("\n".join([*lines, lines[1]]) + "\n")


def _ragged_row(d: Path) -> None:
    with (d / "party-0.csv").open("a") as f:
        f.write("u999,1.0\n")


def _bad_split(d: Path) -> None:
    text = (d / "active.csv").read_text()
    (d / "active.csv").write_text(text.replace(",test", ",validation", 1))


def _gap_in_parties(d: Path) -> None:
    (d / "party-1.csv").rename(d / "party-3.csv")


def _empty_party(d: Path) -> None:
    (d / "party-0.csv").write_text("")


def _header_only(d: Path) -> None:
    (d / "active.csv").write_text("id,label\n")


def _no_active(d: Path) -> None:
    (d / "active.csv").unlink()


def _no_id_column(d: Path) -> None:
    (d / "party-0.csv").write_text("key,a\n1,2\n")


@pytest.mark.parametrize(
    ("break_it", "fragments"),
    [
        (_drop_id, ["party-1.csv", "id 'u007'", "missing"]),
        (_text_feature, ["party-0.csv:4", "'abc'", "p0f0"]),
        (_nan_feature, ["party-2.csv:3", "'nan'"]),
        (_duplicate_active_id, ["active.csv", "duplicate id"]),
        (_duplicate_party_id, ["party-2.csv", "duplicate id"]),
        (_ragged_row, ["party-0.csv", "2 fields, but the header has 3"]),
        (_bad_split, ["active.csv", "'validation'"]),
        (_gap_in_parties, ["party-1.csv", "missing"]),
        (_empty_party, ["party-0.csv", "empty file"]),
        (_header_only, ["active.csv", "no data rows"]),
        (_no_active, ["active.csv", "not found"]),
        (_no_id_column, ["party-0.csv", "'id'"]),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else "",
)
def test_bad_files_raise_one_line_data_error(
    tmp_path: Path, break_it, fragments: list[str]
) -> None:
    make_parties(tmp_path)
    break_it(tmp_path)
    with pytest.raises(DataError) as excinfo:
        load_dataset("csv", tmp_path)
    message = str(excinfo.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_no_party_files(tmp_path: Path) -> None:
    write_csv(tmp_path / "active.csv", ["id", "label"], [[1, 0], [2, 1]])
    with pytest.raises(DataError, match=re.escape("party-0.csv")):
        load_dataset("csv", tmp_path)


def test_stratified_split_names_a_single_row_label(tmp_path: Path) -> None:
    write_csv(tmp_path / "active.csv", ["id", "label"], [[1, "a"], [2, "b"], [3, "a"]])
    write_csv(tmp_path / "party-0.csv", ["id", "x"], [[1, 1], [2, 2], [3, 3]])
    with pytest.raises(DataError, match="label 'b' has only one row"):
        load_dataset("csv", tmp_path)
