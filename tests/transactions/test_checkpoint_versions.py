"""Per-version checkpoints: atomic, digest-checked; a corrupt newest one falls back; 2PC on disk."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from vfl.errors import CheckpointError, ProtocolError
from vfl.federation import FederationSpec, build_passive_party
from vfl.party.passive import PassiveParty
from vfl.party.store import CheckpointStore

SPEC = FederationSpec(dataset="digits", parties=2, seed=0)


def party_with_store(state_dir: Path) -> tuple[PassiveParty, CheckpointStore]:
    party = build_passive_party(SPEC, "passive-0")
    store = CheckpointStore(state_dir, "passive-0")
    store.load_into(party)
    return party, store


def commit_new_version(party: PassiveParty, token: str, seed: int) -> str:
    """One request: begin, change the weights, prepare, commit; return the new digest."""
    party.begin(token)
    party.reinitialize(seed)
    party.prepare(token)
    party.commit(token)
    return party.digest()


def test_each_commit_is_a_version_and_only_the_newest_three_are_kept(tmp_path: Path) -> None:
    party, store = party_with_store(tmp_path)
    assert store.versions() == [0]  # fresh weights are v0, so a rollback can reach them
    digests = [commit_new_version(party, f"r{i}", seed=i) for i in range(1, 5)]
    assert store.versions() == [2, 3, 4] and party.version == 4

    restarted, _ = party_with_store(tmp_path)
    assert (restarted.version, restarted.digest()) == (4, digests[-1])


def test_a_corrupt_newest_version_falls_back_to_the_previous_good_one_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    party, store = party_with_store(tmp_path)
    good = commit_new_version(party, "r1", seed=1)
    commit_new_version(party, "r2", seed=2)
    newest = store.version_path(2)
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside the weights
    newest.write_bytes(bytes(data))

    with caplog.at_level(logging.ERROR, logger="vfl.party.store"):
        restarted, _ = party_with_store(tmp_path)
    assert (restarted.version, restarted.digest()) == (1, good)
    assert str(newest) in caplog.text and "falling back" in caplog.text


def test_every_version_corrupt_refuses_to_start_rather_than_use_fresh_weights(
    tmp_path: Path,
) -> None:
    party, store = party_with_store(tmp_path)
    commit_new_version(party, "r1", seed=1)
    for version in store.versions():
        store.version_path(version).write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="no good checkpoint"):
        party_with_store(tmp_path)


def test_a_failed_write_is_a_clear_error_and_the_previous_version_stays(tmp_path: Path) -> None:
    party, store = party_with_store(tmp_path)
    good = commit_new_version(party, "r1", seed=1)
    store.dir = tmp_path / "a-file" / "versions"  # a path under a regular file: not writable
    (tmp_path / "a-file").write_text("")
    party.begin("r2")
    party.reinitialize(2)
    with pytest.raises(CheckpointError, match="cannot write checkpoint"):
        party.prepare("r2")
    party.abort("r2")
    assert (party.version, party.digest()) == (1, good)


def test_a_party_restarted_after_prepare_can_still_commit_or_abort(tmp_path: Path) -> None:
    party, _ = party_with_store(tmp_path)
    before = party.digest()
    party.begin("r1")
    party.reinitialize(1)
    version, digest = party.prepare("r1")
    assert (version, party.version) == (1, 0)  # prepared, not current

    restarted, store = party_with_store(tmp_path)  # "killed" between prepare and commit
    assert (restarted.version, restarted.digest()) == (0, before)
    assert store.has_candidate("r1")
    assert restarted.commit("r1") == 1 and restarted.digest() == digest
    assert restarted.commit("r1") == 1  # a retried commit is a no-op

    restarted.begin("r2")
    restarted.reinitialize(2)
    restarted.prepare("r2")
    again, store = party_with_store(tmp_path)
    again.abort("r2")  # abort after a restart: the candidate is dropped
    assert not store.has_candidate("r2") and (again.version, again.digest()) == (1, digest)
    with pytest.raises(ProtocolError):
        again.abort("r2")


def test_rollback_goes_back_to_a_held_version_and_sets_newer_ones_aside(tmp_path: Path) -> None:
    party, store = party_with_store(tmp_path)
    first = commit_new_version(party, "r1", seed=1)
    commit_new_version(party, "r2", seed=2)
    assert party.rollback(1) == 1 and party.digest() == first
    assert store.versions() == [0, 1]
    restarted, _ = party_with_store(tmp_path)
    assert (restarted.version, restarted.digest()) == (1, first)
    with pytest.raises(CheckpointError, match="does not hold version 7"):
        restarted.rollback(7)


def test_aborting_a_request_ends_the_trials_opened_inside_it(tmp_path: Path) -> None:
    # A method's trial (LUV's per-epoch guard) is open when a party dies mid-request.
    party, _ = party_with_store(tmp_path)
    before = party.digest()
    party.begin("request")
    party.open_trial("epoch")
    party.reinitialize(1)
    party.abort("request")
    assert party.open_trials == 0 and party.digest() == before
    assert commit_new_version(party, "next", seed=2) != before  # the next request can prepare
