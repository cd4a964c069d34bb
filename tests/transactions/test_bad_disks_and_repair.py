"""A corrupt newest checkpoint, a party that cannot write, and `vfl repair` (real processes)."""

from __future__ import annotations

import json

import grpc
import pytest
from txn_federation import Federation, digests, one_version
from typer.testing import CliRunner

from vfl.cli.app import app
from vfl.grpc.errors import RemoteProtocolError
from vfl.party.store import CheckpointStore


@pytest.mark.slow
def test_a_corrupt_newest_checkpoint_falls_back_and_requests_wait_for_vfl_repair(
    federation: Federation,
) -> None:
    # Prepare: two commits, so every party holds v-1 and v.
    fed = federation
    fed.commit_train()
    fed.commit_train()
    version = one_version(fed.states())
    store = CheckpointStore(fed.workdir / "passive-0", "passive-0")
    previous = store.read(store.version_path(version - 1))["digest"]
    newest = store.version_path(version)
    # Execute: passive-0 dies, and its newest file is damaged on disk.
    fed.kill("passive-0")
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    newest.write_bytes(bytes(data))
    fed.start_passive("passive-0")
    # Assert: it says which file is bad and runs the previous good version, not fresh weights.
    log = fed.children["passive-0"].log.read_text()
    assert str(newest) in log and "falling back to the previous version" in log
    states = fed.states()
    assert states["passive-0"] == (version - 1, previous)
    # Requests are refused, naming every party's version and the fix.
    assert fed.client is not None
    with pytest.raises(RemoteProtocolError) as refused:
        fed.client.submit_train(1)
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
    message = str(refused.value)
    assert f"passive-0 at v{version - 1}" in message and f"active at v{version}" in message
    assert f"vfl repair --coordinator {fed.coordinator}" in message
    # `vfl repair` rolls every party back to the newest version all of them hold.
    options = ["--coordinator", fed.coordinator, "--certs", str(fed.certs), "--identity", "admin"]
    repaired = CliRunner().invoke(app, ["repair", *options, "--json"])
    assert repaired.exit_code == 0, repaired.output
    assert json.loads(repaired.output)["version"] == version - 1
    after = fed.states()
    assert one_version(after) == version - 1 and after["passive-0"][1] == previous
    # Repairing again changes nothing; the table names every party at that version.
    table = CliRunner().invoke(app, ["repair", *options])
    assert table.exit_code == 0, table.output
    assert f"every party at v{version - 1}" in table.output
    assert all(party in table.output for party in after)
    assert fed.commit_train().status == "committed"  # requests run again


@pytest.mark.slow
def test_a_party_that_cannot_write_aborts_the_request_and_keeps_its_version(
    federation: Federation,
) -> None:
    fed = federation
    before = fed.states()
    version = one_version(before)
    # passive-1 restarts unable to write a file larger than 20 kB (its checkpoint is ~55 kB):
    # to it, the disk is full.
    fed.kill("passive-1")
    fed.start_passive("passive-1", fsize=20_000)
    assert fed.client is not None
    final = fed.final(fed.client.submit_train(1).id)
    assert final.status == "aborted"
    assert "passive-1" in final.error and "cannot write checkpoint" in final.error, final.error
    assert fed.states() == before and final.digests_after == digests(before)
    versions = fed.workdir / "passive-1" / "versions"
    assert not list(versions.glob("prepared-*")) and not list(versions.glob("*.tmp"))
    # With room again, the same party commits the next request.
    fed.kill("passive-1")
    fed.start_passive("passive-1")
    assert fed.commit_train().status == "committed"
    assert one_version(fed.states()) == version + 1
