"""``--score-data``: new samples, aligned like the others, scored without retraining.

Scoring rows come after train and test on the wire, so adding them leaves every
earlier position, the scaler (fit on training rows) and the trained model as they
were. A scoring row with the same values as a training row is scored the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vfl.coordinator import Coordinator, TrainConfig
from vfl.data.tables import SampleIndex, read_feature_table, read_label_table
from vfl.errors import DataError, UnknownSampleError
from vfl.models.bottom import BottomModelConfig
from vfl.party.active import ActiveParty
from vfl.party.passive import PassiveParty
from vfl.protocol.client import InProcessClient, RecordingClient

N = 48
CFG = BottomModelConfig(name="mlp", embed_dim=8, hidden=16)


def write_files(d: Path) -> None:
    """Labels for c000..c047; each passive party also has new rows n000..n009, where
    n00k repeats c00k's values; the active party asks to score n000..n007 only."""
    rng = np.random.default_rng(1)
    split = ["test" if k % 4 == 0 else "train" for k in range(N)]
    labels = [f"c{k:03d},{'ab'[k % 2]},{split[k]}" for k in range(N)]
    (d / "labels.csv").write_text("id,y,split\n" + "\n".join(labels) + "\n")
    (d / "score.csv").write_text("id\n" + "\n".join(f"n{k:03d}" for k in range(8)) + "\n")
    for p in range(2):
        values = rng.normal(size=(N, 2)).round(4)
        colour = ["red", "blue"]
        main = [f"c{k:03d},{values[k, 0]},{values[k, 1]},{colour[k % 2]}" for k in range(N)]
        new = [f"n{k:03d},{values[k, 0]},{values[k, 1]},{colour[k % 2]}" for k in range(10)]
        new.append(f"n{10:03d},0.5,0.5,green")  # a level the training file never has
        header = f"id,a{p},b{p},colour\n"
        (d / f"party-{p}.csv").write_text(header + "\n".join(main) + "\n")
        (d / f"party-{p}-new.csv").write_text(header + "\n".join(new) + "\n")


def federation(d: Path, scoring: bool) -> tuple[Coordinator, list[RecordingClient]]:
    def table(p: int):
        new = d / f"party-{p}-new.csv" if scoring else None
        return read_feature_table(d / f"party-{p}.csv", categorical=["colour"], score=new)

    passives = [PassiveParty.from_table(f"passive-{p}", table(p), CFG, seed=p) for p in range(2)]
    clients = [RecordingClient(InProcessClient(p)) for p in passives]
    labels = read_label_table(
        d / "labels.csv", label_column="y", score=d / "score.csv" if scoring else None
    )
    return Coordinator(ActiveParty(labels, [8, 8], 16, seed=7), clients), clients


def trained(d: Path, scoring: bool) -> tuple[Coordinator, list[RecordingClient]]:
    co, clients = federation(d, scoring)
    co.align(seed=0)
    co.train(co.active.labels.train_ids, TrainConfig(epochs=2, batch_size=8), seed=0)
    return co, clients


def test_score_rows_are_aligned_after_train_and_test_and_never_trained_on(tmp_path: Path) -> None:
    write_files(tmp_path)
    plain, _ = trained(tmp_path, scoring=False)
    co, clients = trained(tmp_path, scoring=True)
    index = co.active.sample_index
    assert index is not None and plain.active.sample_index is not None
    # the labelled part of the index, and so the model, is what it is without scoring rows
    assert index.labelled == plain.active.sample_index.labelled
    assert index.score == tuple(f"n{k:03d}" for k in range(8))  # n008.. only passive: not shared
    assert co.digests() == plain.digests()
    # passive parties were told the score IDs, and only IDs
    sent = next(c for c in clients[0].calls if c.method == "set_index").args
    assert sent["score"] == index.score
    # a scoring row with a training row's values gets that row's scores exactly
    pred_new, p_new = co.scores(index.positions([f"n{k:03d}" for k in range(8)]))
    pred_old, p_old = co.scores(index.positions([f"c{k:03d}" for k in range(8)]))
    np.testing.assert_array_equal(pred_new, pred_old)
    np.testing.assert_array_equal(p_new, p_old)
    # scoring positions carry no label: training or evaluating on them is refused
    with pytest.raises(UnknownSampleError, match="has no label"):
        co.active.labels_of(index.positions(["n000"]))
    co.close()
    plain.close()


def test_a_scoring_file_must_hold_new_samples_with_the_same_columns(tmp_path: Path) -> None:
    write_files(tmp_path)
    alone = read_feature_table(tmp_path / "party-0.csv", categorical=["colour"])
    both = read_feature_table(
        tmp_path / "party-0.csv", categorical=["colour"], score=tmp_path / "party-0-new.csv"
    )
    # the training file's levels only: the model's input width does not change
    assert both.columns == alone.columns == ("a0", "b0", "colour=blue", "colour=red")
    assert both.ids[-1] == "n010" and both.features[-1, 2:].tolist() == [0.0, 0.0]  # "green"
    np.testing.assert_array_equal(both.features[N : N + 10], alone.features[:10])
    (tmp_path / "dup.csv").write_text("id,a0,b0,colour\nc001,0.1,0.2,red\n")
    with pytest.raises(DataError, match=r"dup.csv: id 'c001' is also in .*party-0.csv"):
        read_feature_table(
            tmp_path / "party-0.csv", categorical=["colour"], score=tmp_path / "dup.csv"
        )
    (tmp_path / "cols.csv").write_text("id,a0,colour\nn001,0.1,red\n")
    with pytest.raises(DataError, match=r"cols.csv: its columns .* must be those of"):
        read_feature_table(tmp_path / "party-0.csv", score=tmp_path / "cols.csv")
    (tmp_path / "labelled.csv").write_text("id\nc003\n")
    with pytest.raises(DataError, match="1 scoring IDs also have a label"):
        read_label_table(tmp_path / "labels.csv", label_column="y", score=tmp_path / "labelled.csv")


def test_an_index_with_scoring_ids_survives_a_restart(tmp_path: Path) -> None:
    from vfl.party.store import CheckpointStore

    store = CheckpointStore(tmp_path, "passive-0")
    index = SampleIndex(("a", "b"), ("c",), ("x", "y"))
    store.save_index(index)
    assert store.load_index() == index
    with pytest.raises(DataError, match="more than one of train, test and score"):
        SampleIndex(("a",), ("c",), ("a",))
