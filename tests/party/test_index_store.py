"""The aligned index is durable: a restarted party resumes aligned, on the same sample order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.party.test_coordinator_align import write_bank
from vfl.coordinator import Coordinator
from vfl.data.tables import SampleIndex, read_feature_table, read_label_table
from vfl.errors import CheckpointError, UnknownSampleError
from vfl.models.bottom import BottomModelConfig
from vfl.party.active import ActiveParty
from vfl.party.passive import PassiveParty
from vfl.party.store import CheckpointStore
from vfl.protocol.client import InProcessClient


def started(d: Path) -> Coordinator:
    """Each party from its own file, its checkpoint store attached (as a process starts)."""
    cfg = BottomModelConfig(name="mlp", embed_dim=8, hidden=16)
    passives = [
        PassiveParty.from_table(f"passive-{p}", read_feature_table(d / f"party-{p}.csv"), cfg)
        for p in range(2)
    ]
    active = ActiveParty(read_label_table(d / "labels.csv", label_column="y"), [8, 8], 16)
    for name, party in [*((p.party_id, p) for p in passives), ("active", active)]:
        CheckpointStore(d / name, name).load_into(party)
    return Coordinator(active, [InProcessClient(p) for p in passives])


def test_a_restarted_federation_resumes_aligned_on_the_same_order(tmp_path: Path) -> None:
    write_bank(tmp_path, [range(10, 80), range(0, 50)])
    co = started(tmp_path)
    report = co.align(seed=0)
    probe = np.arange(len(report.index.ids))
    before = [t.clone() for t in co.embed(probe, train=False)]
    co.close()

    again = started(tmp_path)  # fresh processes: nothing aligned in memory
    assert again.active.sample_index == report.index
    assert np.array_equal(again.active.labels.labels, co.active.labels.labels)
    for old, new in zip(before, again.embed(probe, train=False), strict=True):
        assert torch.equal(old, new)
    again.close()


def test_a_damaged_index_file_is_one_clear_error(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path, "passive-0")
    store.save_index(SampleIndex(("a", "b"), ("c",)))
    assert store.load_index() == SampleIndex(("a", "b"), ("c",))
    (tmp_path / "index.json").write_text('{"train": ["b", "a"], "test": []}')  # unsorted
    with pytest.raises(CheckpointError, match="run `vfl align` again"):
        store.load_index()


def test_positions_name_how_many_ids_are_not_aligned() -> None:
    index = SampleIndex(("a", "c"), ("b",))
    assert index.positions(["b", "a", "c"]).tolist() == [2, 0, 1]
    with pytest.raises(UnknownSampleError, match="2 of 3 IDs are not in the aligned index"):
        index.positions(["a", "zz", "yy"])
