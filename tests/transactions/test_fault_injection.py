"""Seeded kills: every process killed at every point of a request, in a seeded random order.

Nine trials, one per (victim, point) pair, so each pair is covered (twenty draws
at random covered eight of the nine); a kill mid-work lands after a random
progress event.

After every trial (the victim restarted) the invariant holds: every party at one
version; their digests are the request's journaled ``digests_before`` (aborted:
the version did not move) or ``digests_after`` (committed: it moved by one);
and every journal row has finished, with a receipt exactly when committed.
"""

from __future__ import annotations

import itertools
import random

import pytest
from txn_federation import Federation, digests, one_version

from vfl.txn.sqlite import JOURNAL_FILE, SqliteJournal

SEED = 20261127
VICTIMS = ("passive-0", "passive-1", "active")
POINTS = ("work", "prepared", "decided")
EXPECTED = {  # where the kill lands -> how the request must end
    ("work", False): "aborted",
    ("work", True): "aborted",  # restart recovery restores every party
    ("prepared", False): "aborted",  # a passive party lost before the decision
    ("decided", False): "committed",
    ("prepared", True): "aborted",  # the coordinator: no decision journaled
    ("decided", True): "committed",
}


def kill_during(fed: Federation, victim: str, point: str, rng: random.Random) -> str:
    """Submit a 1-epoch train, kill ``victim`` at ``point``, restart it; return the request id."""
    assert fed.client is not None
    fed.arm(point)
    request = fed.client.submit_train(1)
    fed.wait_paused(point)
    if point == "work":  # after a random progress event of the epoch (it has 6 batches)
        for _ in range(rng.randint(1, 3) - 1):
            fed.arm(point)  # re-armed before resuming: the next event pauses again
            fed.resume(point)
            fed.wait_paused(point)
    fed.kill(victim)
    if victim != "active":
        fed.resume(point)
    fed.restart_dead(victim)
    return request.id


@pytest.mark.slow
def test_random_kills_keep_every_party_at_one_version_and_the_journal_consistent(
    federation: Federation,
) -> None:
    fed = federation
    rng = random.Random(SEED)
    trials = list(itertools.product(VICTIMS, POINTS))
    rng.shuffle(trials)
    for trial, (victim, point) in enumerate(trials):
        before = fed.states()
        version = one_version(before)
        request_id = kill_during(fed, victim, point, rng)
        final = fed.final(request_id)
        after = fed.states()
        context = f"trial {trial}: {victim} killed at {point}: {final.status} {final.error}"
        assert final.status == EXPECTED[point, victim == "active"], context
        assert final.digests_before == digests(before), context
        if final.status == "committed":
            assert one_version(after) == version + 1, context
            assert digests(after) == final.digests_after, context
        else:
            assert after == before, context

    journal = SqliteJournal(fed.workdir / "active" / JOURNAL_FILE)
    for row in journal.all():
        assert row.done, row
        assert (journal.receipt(row.id) is not None) == (row.status == "committed"), row
    journal.close()
