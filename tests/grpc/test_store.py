"""A party process writes its model to disk only when a request's outermost commit lands."""

from __future__ import annotations

from pathlib import Path

from parties.store import CheckpointStore
from vfl.federation import FederationSpec, build_passive_party
from vfl.party.state import load_checkpoint, state_digest


def test_inner_commits_are_not_written_and_a_restart_loads_the_outer_one(tmp_path: Path) -> None:
    spec = FederationSpec(dataset="digits", parties=2)
    party = build_passive_party(spec, "passive-0")
    store = CheckpointStore(tmp_path, "passive-0")
    assert not store.load_into(party)  # nothing on disk yet: the fresh weights become v0
    assert store.versions() == [0]

    party.snapshot("request")
    party.snapshot("epoch")
    party.reinitialize(123)  # stands in for an unlearning epoch's steps
    party.commit("epoch")
    assert store.versions() == [0]  # still inside the request: nothing written

    party.commit("request")  # the outermost commit writes through the attached store
    assert store.versions() == [0, 1]
    saved = load_checkpoint(store.path)
    assert saved["version"] == 1 and state_digest(saved["model"]) == party.digest()

    restarted = build_passive_party(spec, "passive-0")
    assert store.load_into(restarted)
    assert (restarted.version, restarted.digest()) == (1, party.digest())
