"""Per-party tables: each party reads only its own file; the index maps wire positions to rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vfl.data import load_dataset
from vfl.data.partition import column_groups
from vfl.data.tables import (
    SampleIndex,
    feature_table_of,
    label_table_of,
    read_feature_table,
    read_label_table,
)
from vfl.errors import DataError


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_feature_table_numeric_and_declared_categorical(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "id,age,city\nb,30,Oslo\na,40,Bergen\nc,50,Oslo\n")
    table = read_feature_table(path, categorical=["city"])
    assert table.ids == ("b", "a", "c")
    assert table.columns == ("age", "city=Bergen", "city=Oslo")
    np.testing.assert_array_equal(table.features, [[30, 0, 1], [40, 1, 0], [50, 0, 1]])


def test_undeclared_text_column_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "id,age,city\nb,30,Oslo\n")
    with pytest.raises(DataError, match=r"p\.csv:2: column 'city' has 'Oslo'.*--categorical"):
        read_feature_table(path)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("id,x\na,1\na,2\n", "p.csv:3: duplicate id 'a' (first on line 2)"),
        ("key,x\na,1\n", "no 'id' column"),
        ("id\na\n", "no feature columns besides 'id'"),
    ],
)
def test_bad_feature_files(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(DataError) as info:
        read_feature_table(write(tmp_path / "p.csv", text))
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_custom_id_column(tmp_path: Path) -> None:
    table = read_feature_table(write(tmp_path / "p.csv", "x,customer\n1,k1\n2,k2\n"), "customer")
    assert table.ids == ("k1", "k2") and table.columns == ("x",)


def test_label_file_with_one_class_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="1 class \\('yes'\\); a classifier needs at least 2"):
        read_label_table(write(tmp_path / "l.csv", "id,y\na,yes\nb,yes\n"), label_column="y")


def test_class_names_kept_as_written(tmp_path: Path) -> None:
    labels = read_label_table(write(tmp_path / "l.csv", "id,y\na,no\nb,Yes\nc,no\n"), "id", "y")
    assert labels.class_names == ("Yes", "no")
    shard = labels.shard(labels.split(["a", "b", "c"], seed=0))
    assert shard.class_names == ("Yes", "no") and shard.class_name(1) == "no"


def test_split_column_decides_and_lists_are_sorted(tmp_path: Path) -> None:
    text = "id,y,split\nz,0,train\ny,1,test\nx,0,train\nw,1,train\nv,0,test\n"
    labels = read_label_table(write(tmp_path / "l.csv", text), label_column="y")
    index = labels.split(["z", "y", "x", "v", "other"], seed=0)
    assert index == SampleIndex(("x", "z"), ("v", "y"))


def test_seeded_split_is_not_stratified_and_repeats(tmp_path: Path) -> None:
    rows = "".join(f"{k:03d},{k % 2}\n" for k in range(40))
    labels = read_label_table(write(tmp_path / "l.csv", "id,label\n" + rows))
    ids = [f"{k:03d}" for k in range(40)]
    a, b, c = labels.split(ids, 1), labels.split(ids, 1), labels.split(ids, 2)
    assert a == b and a != c and (len(a.train), len(a.test)) == (30, 10)
    # the split depends on the IDs and the seed only: relabelling changes nothing
    flipped = read_label_table(
        write(tmp_path / "f.csv", "id,label\n" + "".join(f"{k:03d},{k % 3}\n" for k in range(40)))
    )
    assert flipped.split(ids, 1) == a


def test_empty_intersection_is_one_clear_error(tmp_path: Path) -> None:
    labels = read_label_table(write(tmp_path / "l.csv", "id,label\na,0\nb,1\n"))
    with pytest.raises(DataError, match="empty intersection"):
        labels.split(["c", "d"], seed=0)


def test_shard_standardises_on_own_training_rows_in_wire_order(tmp_path: Path) -> None:
    table = read_feature_table(write(tmp_path / "p.csv", "id,x\nc,5\na,1\nb,3\nd,100\n"))
    shard = table.shard("passive-0", SampleIndex(("a", "b", "c"), ("d",)))
    np.testing.assert_array_equal(shard.ids, [0, 1, 2, 3])
    expected = (np.array([1, 3, 5, 100]) - 3) / np.std([1, 3, 5])
    np.testing.assert_allclose(shard.features[:, 0], expected, rtol=1e-6)


def test_shard_refuses_ids_it_does_not_hold(tmp_path: Path) -> None:
    table = read_feature_table(write(tmp_path / "p.csv", "id,x\na,1\nb,2\n"))
    with pytest.raises(DataError, match="1 of 2 IDs missing from this table"):
        table.shard("passive-0", SampleIndex(("a",), ("q",)))


def test_builtin_tables_split_columns_and_labels_apart() -> None:
    ds = load_dataset("digits")
    groups = column_groups(ds, 2)
    table = feature_table_of(ds, groups[1])
    assert not hasattr(table, "labels") and table.feature_shape == (1, 8, 4)
    shard = table.shard("passive-1")
    np.testing.assert_array_equal(shard.ids, np.arange(ds.n_train + ds.n_test))
    np.testing.assert_array_equal(shard.features[: ds.n_train], ds.x_train[..., groups[1]])
    labels = label_table_of(ds).shard()
    np.testing.assert_array_equal(labels.labels_of(ds.test_ids), ds.y_test)
    assert labels.class_names == tuple(str(c) for c in range(10))


def test_classes_by_name_or_index_and_names_win() -> None:
    from vfl.data.tables import resolve_classes
    from vfl.errors import ConfigError

    assert resolve_classes(["loan", "0"], ("card", "loan")) == [1, 0]
    assert resolve_classes(["3"], ("1", "2", "3")) == [2]  # the name "3", not index 3
    with pytest.raises(ConfigError, match=r"class lion is not one of the classes \(card, loan\)"):
        resolve_classes(["lion"], ("card", "loan"))
    with pytest.raises(ConfigError, match="class 99999999999 is not one"):
        resolve_classes(["99999999999"], ("card", "loan"))
