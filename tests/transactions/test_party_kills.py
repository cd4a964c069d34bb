"""SIGKILL a passive party or the coordinator at precise points of a request (real processes, mTLS).

Which way a request goes is fixed by where the kill lands:

* before every party has prepared (forget or recovery rounds): ``aborted``, and
  every party is back at its pre-request version and digest;
* after every party has prepared: rolled FORWARD. A dead passive party is
  retried until it is back (it finds its candidate on disk); a dead coordinator
  rolls forward on restart if it had journaled the decision, and aborts if not.
"""

from __future__ import annotations

import signal

import pytest
from txn_federation import Federation, digests, one_version

from vfl.txn.recovery import RESTART_REASON
from vfl.txn.sqlite import JOURNAL_FILE, SqliteJournal


@pytest.mark.slow
@pytest.mark.parametrize(("method", "train_embed"), [("luv", 1), ("finetune", 5)])
def test_a_passive_party_killed_mid_unlearning_aborts_and_every_party_is_back(
    federation: Federation, method: str, train_embed: int
) -> None:
    # Prepare: a trained federation; passive-1 will SIGKILL itself at LUV's first forget
    # step (its first training embed) or in the middle of a longer request (fine-tuning's
    # fifth batch: LUV's recovery steps run only on demand, so a second LUV step may not come).
    fed = federation
    fed.commit_train()
    before = fed.states()
    one_version(before)
    fed.kill("passive-1")
    fed.start_passive("passive-1", kill_at_train_embed=train_embed)
    # Execute
    assert fed.client is not None
    final = fed.final(fed.client.submit_unlearn([3], method).id)
    # Assert: it died where intended, the request aborted naming it, and after its
    # restart every party is exactly where it was before the request.
    assert fed.children["passive-1"].proc.wait(30) == -signal.SIGKILL
    assert final.status == "aborted" and "passive-1" in final.error, final.error
    fed.start_passive("passive-1")
    assert fed.states() == before
    assert final.digests_before == digests(before)


@pytest.mark.slow
def test_a_passive_party_killed_after_preparing_but_before_the_decision_aborts(
    federation: Federation,
) -> None:
    fed = federation
    before = fed.states()
    version = one_version(before)
    assert fed.client is not None
    fed.arm("prepared")
    request = fed.client.submit_train(1)
    fed.wait_paused("prepared")
    fed.kill("passive-1")  # its candidate is on disk; nothing is journaled yet
    fed.resume("prepared")
    final = fed.final(request.id)
    assert final.status == "aborted"
    assert "passive-1" in final.error
    fed.start_passive("passive-1")  # comes back at its last committed version
    after = fed.states()
    assert one_version(after) == version
    assert digests(after) == digests(before) == final.digests_before
    journal = SqliteJournal(fed.workdir / "active" / JOURNAL_FILE)
    assert journal.decision(request.id) is None
    journal.close()


@pytest.mark.slow
@pytest.mark.parametrize(("point", "outcome"), [("prepared", "aborted"), ("decided", "committed")])
def test_a_coordinator_killed_between_prepare_and_commit_finishes_consistently_on_restart(
    federation: Federation, point: str, outcome: str
) -> None:
    fed = federation
    before = fed.states()
    version = one_version(before)
    assert fed.client is not None
    fed.arm(point)
    request = fed.client.submit_unlearn([5], "luv", idempotency_key=f"kill-coordinator-{point}")
    fed.wait_paused(point)
    fed.kill("active")
    client = fed.start_active()
    row = client.get(request.id)
    after = fed.states()
    # prepared (no decision journaled): rolled back; decided: rolled forward.
    assert row.status == outcome, row.error
    if outcome == "aborted":
        assert row.error.startswith(RESTART_REASON)
        assert after == before and row.digests_after == digests(before)
    else:
        assert one_version(after) == version + 1 and row.digests_after == digests(after)
    # The row is intact, and a committed one carries its signed receipt.
    assert (row.kind, row.classes, row.method) == ("unlearn", [5], "luv")
    assert row.idempotency_key == f"kill-coordinator-{point}"
    assert row.created_at == request.created_at and row.digests_before == digests(before)
    journal = SqliteJournal(fed.workdir / "active" / JOURNAL_FILE)
    assert (journal.receipt(request.id) is not None) == (outcome == "committed")
    journal.close()
