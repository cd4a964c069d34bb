"""Flower with each party's own table: a worker reads only its file, PSI runs over Flower.

The real deployment on loopback (SuperLink, SuperNodes, workers started with
``--data``): the active party aligns with both parties over sealed Flower
messages, trains, and scores like the same federation in-process.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.bank import make_bank_split
from vfl.coordinator import Coordinator, TrainConfig
from vfl.federation import (
    ActiveData,
    FederationSpec,
    PassiveData,
    build_active_party,
    build_passive_party,
)
from vfl.flower.local import local_flower_federation
from vfl.party.optim import UpdateConfig
from vfl.protocol.client import InProcessClient
from vfl.protocol.messages import REQUESTS

pytestmark = pytest.mark.slow

SPEC = FederationSpec(parties=2, seed=0)
TRAIN = TrainConfig(epochs=4, batch_size=256, update=UpdateConfig(lr=0.01))


def tables(root: Path) -> dict[str, PassiveData]:
    return {
        "passive-0": PassiveData(path=root / "passive-0" / "party-0.csv"),
        "passive-1": PassiveData(path=root / "passive-1" / "party-1.csv", categorical=("region",)),
    }


def run(co: Coordinator) -> tuple[dict, np.ndarray]:
    report = co.align(seed=0)
    labels = co.active.labels
    co.train(labels.train_ids, TRAIN, seed=0)
    sizes = {"pairwise": report.pairwise, "party_sizes": report.party_sizes}
    return sizes, co.predict(labels.test_ids)


def test_flower_workers_align_and_train_on_their_own_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_bank_split(tmp_path, customers=400, seed=0)
    labels = ActiveData(labels=tmp_path / "active" / "labels.csv", label_column="product").read()
    record = tmp_path / "received"
    record.mkdir()
    monkeypatch.setenv("VFL_FLOWER_RECORD_DIR", str(record))
    with local_flower_federation(SPEC, None, tables=tables(tmp_path), labels=labels) as co:
        sizes, predicted = run(co)
        index = co.active.sample_index
        y = co.active.labels.labels_of(co.active.labels.test_ids)

    passives = [build_passive_party(SPEC, p, data=d) for p, d in tables(tmp_path).items()]
    dims = [p.info().embed_dim for p in passives]
    local = Coordinator(
        build_active_party(SPEC, dims, labels=labels), [InProcessClient(p) for p in passives]
    )
    local_sizes, local_predicted = run(local)
    local.close()

    assert sizes == local_sizes and index == local.active.sample_index
    assert np.mean(predicted == y) > 0.6  # four classes: chance is 0.25
    assert np.mean(predicted == local_predicted) >= 0.95
    # the workers received the party protocol's requests only, alignment included
    for party in ("passive-0", "passive-1"):
        ops = [
            op["op"]
            for line in (record / f"{party}.jsonl").read_text().splitlines()
            for op in json.loads(line)["ops"] or []
        ]
        assert set(ops) <= set(REQUESTS) and {"align_request", "set_index"} <= set(ops), ops
