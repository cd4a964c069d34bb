"""Coordinator.align over the party protocol: PSI per party, A ∩ P0 ∩ P1, the split, the index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vfl.coordinator import Coordinator, TrainConfig
from vfl.data.tables import read_feature_table, read_label_table
from vfl.errors import DataError, ProtocolError, WireFormatError
from vfl.models.bottom import BottomModelConfig
from vfl.party.active import ActiveParty
from vfl.party.passive import PassiveParty
from vfl.protocol import messages as m
from vfl.protocol.client import InProcessClient, RecordingClient
from vfl.protocol.fields import from_parts

N = 60


def write_bank(d: Path, passive_ids: list[range]) -> None:
    rng = np.random.default_rng(0)
    rows = [f"c{k:03d},{'yes' if k % 3 == 0 else 'no'}" for k in range(N)]
    (d / "labels.csv").write_text("id,y\n" + "\n".join(rows) + "\n")
    for p, ids in enumerate(passive_ids):
        body = [f"c{k:03d},{rng.normal():.4f},{rng.normal():.4f}" for k in ids]
        (d / f"party-{p}.csv").write_text(f"id,a{p},b{p}\n" + "\n".join(body) + "\n")


def federation(d: Path, parties: int) -> tuple[Coordinator, list[RecordingClient]]:
    cfg = BottomModelConfig(name="mlp", embed_dim=8, hidden=16)
    passives = [
        PassiveParty.from_table(f"passive-{p}", read_feature_table(d / f"party-{p}.csv"), cfg)
        for p in range(parties)
    ]
    clients = [RecordingClient(InProcessClient(p)) for p in passives]
    active = ActiveParty(read_label_table(d / "labels.csv", label_column="y"), [8] * parties, 16)
    return Coordinator(active, clients), clients


def test_align_then_train_on_the_common_index(tmp_path: Path) -> None:
    write_bank(tmp_path, [range(10, N + 20), range(0, 50)])
    co, clients = federation(tmp_path, 2)
    with pytest.raises(ProtocolError, match="run `vfl align`"):
        co.train(np.arange(4), TrainConfig(epochs=1), seed=0)
    report = co.align(seed=0)
    assert report.active_size == N and report.party_sizes == {"passive-0": 70, "passive-1": 50}
    assert report.pairwise == {"passive-0": 50, "passive-1": 50}
    assert report.shared == 40 and set(report.index.ids) == {f"c{k:03d}" for k in range(10, 50)}
    assert (len(report.index.train), len(report.index.test)) == (30, 10)
    assert co.active.labels.class_names == ("no", "yes")
    # the passive parties saw ID lists and PSI chunks, nothing derived from labels
    set_index = [c for c in clients[0].calls if c.method == "set_index"]
    assert set_index[0].args["train"] == report.index.train
    co.train(co.active.labels.train_ids, TrainConfig(epochs=1, batch_size=8), seed=0)
    assert co.predict(co.active.labels.test_ids).shape == (10,)
    co.close()


def test_empty_intersection_is_one_line_and_leaves_parties_unaligned(tmp_path: Path) -> None:
    write_bank(tmp_path, [range(0, 20), range(40, N)])
    co, _ = federation(tmp_path, 2)
    with pytest.raises(DataError, match="empty intersection; shared with the active party: "
                       "passive-0 20, passive-1 20"):  # fmt: skip
        co.align(seed=0)
    assert not co.active.aligned
    with pytest.raises(ProtocolError, match="not aligned yet"):
        co.clients[0].embed(np.arange(2), train=False)
    co.close()


@pytest.mark.parametrize(
    ("train", "fragment"),
    [
        (["b", "a"], "sorted and unique"),
        (["a", "a"], "sorted and unique"),
        (["", "a"], "every ID is a string"),
        (["x" * 300], "every ID is a string"),
        ("ab", "must be a list"),
    ],
)
def test_string_id_lists_are_checked_on_decode(train: object, fragment: str) -> None:
    with pytest.raises(WireFormatError, match=fragment):
        from_parts(m.SetIndex, {"session": "s", "train": train, "test": ["z"]}, {})


def test_chunks_are_bounded_bytes() -> None:
    with pytest.raises(WireFormatError, match="must be 1 to"):
        from_parts(m.AlignRequest, {"session": "s", "data": b""}, {})
    with pytest.raises(WireFormatError, match="must be 1 to"):
        from_parts(m.AlignRequest, {"session": "s", "data": "text"}, {})


def test_alignment_requests_round_trip_the_grpc_codec() -> None:
    from vfl.grpc import serde

    sent = [
        m.AlignBegin("s", 5),
        m.AlignRequest("s", b"\x01\x02"),
        m.AlignReveal("s", b"\x03", True),
        m.SetIndex("s", ("a", "b"), ("c",)),
    ]
    got = serde.decode_call(type(serde.encode_call(sent)).FromString(
        serde.encode_call(sent).SerializeToString()))  # fmt: skip
    assert got == sent
