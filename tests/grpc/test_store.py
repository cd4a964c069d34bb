"""A party process writes its model to disk only when a request prepares and commits."""

from __future__ import annotations

from pathlib import Path

from vfl.federation import FederationSpec, build_passive_party
from vfl.party.state import load_checkpoint, state_digest
from vfl.party.store import CheckpointStore


def with_trial_kept(party) -> None:  # type: ignore[no-untyped-def]
    party.open_trial("epoch")
    party.reinitialize(123)  # stands in for an unlearning epoch's steps
    party.keep_trial("epoch")


def test_trials_are_not_written_and_a_restart_loads_the_committed_version(tmp_path: Path) -> None:
    spec = FederationSpec(dataset="digits", parties=2)
    party = build_passive_party(spec, "passive-0")
    store = CheckpointStore(tmp_path, "passive-0")
    assert not store.load_into(party)  # nothing on disk yet: the fresh weights become v0
    assert store.versions() == [0]

    party.begin("request")
    with_trial_kept(party)
    assert store.versions() == [0]  # a kept trial is scratch: nothing written

    party.prepare("request")
    assert store.versions() == [0] and store.has_candidate("request")
    party.commit("request")  # the candidate becomes v1 through the attached store
    assert store.versions() == [0, 1]
    saved = load_checkpoint(store.path)
    assert saved["version"] == 1 and state_digest(saved["model"]) == party.digest()

    restarted = build_passive_party(spec, "passive-0")
    assert store.load_into(restarted)
    assert (restarted.version, restarted.digest()) == (1, party.digest())
