"""A second coordinator is fenced: parties serve only the coordinator that owns the journal.

Real processes: the shared federation's coordinator binds every passive party
(its journal key's fingerprint, kept in each party's state dir). A stray
``vfl serve active`` -- with an empty state dir (a new key) or with none (no
journal) -- can then neither train the parties nor roll them back, and the real
coordinator goes on as if nothing happened.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from txn_federation import Federation, digests, one_version

from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.errors import RemoteProtocolError
from vfl.grpc.local import LOOPBACK
from vfl.grpc.operator import CoordinatorClient
from vfl.grpc.processes import spawned
from vfl.grpc.tls import TLSConfig


def stray_coordinator(fed: Federation, state_dir: Path | None):  # type: ignore[no-untyped-def]
    # --new-history: the operator forces a fresh journal onto parties that hold versions
    command = fed.second_active(state_dir, *(["--new-history"] if state_dir else []))
    return spawned(command, fed.workdir, f"stray-{'durable' if state_dir else 'memory'}")


@pytest.mark.slow
@pytest.mark.parametrize("durable", [True, False], ids=["empty-state-dir", "no-state-dir"])
def test_a_second_coordinator_can_neither_train_nor_roll_back_the_parties(
    federation: Federation, durable: bool, tmp_path: Path
) -> None:
    fed = federation
    fed.commit_train()  # the real coordinator has bound every party
    before = fed.states()
    version = one_version(before)
    with stray_coordinator(fed, tmp_path / "stray" if durable else None) as child:
        tls = TLSConfig(certs=fed.certs, identity="admin")
        with CoordinatorClient(f"{LOOPBACK}:{child.port()}", tls) as stray:
            if durable:
                # its own fresh model is v0, so it refuses requests and says to repair...
                with pytest.raises(RemoteProtocolError, match="different model versions"):
                    stray.submit_train(1)
                # ...which would roll the real federation back to v0: the parties refuse
                with pytest.raises(RemoteProtocolError, match="belongs to coordinator"):
                    stray.repair()
            else:  # no journal, no version checks: its request reaches the parties
                record = stray.submit_train(1)
                while not (record := stray.get(record.id)).done:
                    time.sleep(0.05)
                assert record.status == "aborted"
                assert "belongs to coordinator" in record.error, record.error
                assert "second coordinator" in record.error
    after = fed.states()
    assert after["passive-0"] == before["passive-0"] and after["passive-1"] == before["passive-1"]
    assert digests(after) == digests(before)
    assert fed.commit_train().status == "committed"  # the real coordinator is unaffected
    assert one_version(fed.states()) == version + 1


@pytest.mark.slow
def test_a_deployed_party_takes_no_training_step_outside_a_request(
    federation: Federation,
) -> None:
    fed = federation
    before = fed.states()
    party = GrpcPassiveClient(
        "passive-0", fed.targets["passive-0"], TLSConfig(certs=fed.certs, identity="active")
    )
    ids = np.arange(8, dtype=np.int64)
    with pytest.raises(RemoteProtocolError, match="refuses a training embed outside a request"):
        party.embed(ids, train=True)  # it would move BatchNorm's running statistics
    embeddings = party.embed(ids, train=False)  # reading stays possible (scoring)
    with pytest.raises(RemoteProtocolError, match="refuses backward outside a request"):
        party.backward(ids, torch.ones_like(embeddings))
    party.close()
    assert fed.states() == before  # weights, digest and version untouched
