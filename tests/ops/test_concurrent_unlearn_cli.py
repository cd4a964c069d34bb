"""20 ``vfl unlearn`` processes at once, some sharing idempotency keys: none lost, none doubled.

Real processes all the way: the installed ``vfl`` console script, passive and
active servers with mutual TLS on loopback, the SQLite journal under the
active party's state dir.
"""

from __future__ import annotations

import json
from itertools import pairwise

import pytest

from vfl.txn.sqlite import JOURNAL_FILE, SqliteJournal

KEYS = [f"forget-{k}" for k in range(8)]
KEYLESS = 3


def submissions() -> list[list[str]]:
    """Two submissions per key (same class), a few without a key, and one invalid class."""
    keyed = [
        ["--class", str(k), "--idempotency-key", key] for k, key in enumerate(KEYS) for _ in "ab"
    ]
    keyless = [["--class", str(9 - k)] for k in range(KEYLESS)]
    return [*keyed, *keyless, ["--class", "42"]]


@pytest.mark.slow
def test_concurrent_cli_submissions_are_journaled_once_and_all_finish(federation) -> None:
    # Prepare + Execute: every process starts before any is waited for.
    started = [
        (a, federation.vfl("unlearn", *a, "--method", "luv", "--quiet")) for a in submissions()
    ]
    results = [(a, *p.communicate(timeout=300), p.returncode) for a, p in started]

    # Assert: each valid submission printed one id; the invalid one is one error line, exit 2.
    ids: dict[str, set[str]] = {}
    for a, out, err, code in results:
        if a[1] == "42":
            assert code == 2 and "out of range" in err and len(err.strip().splitlines()) == 1
            continue
        assert code == 0, err
        key = a[3] if len(a) > 2 else f"keyless-{len(ids)}"
        ids.setdefault(key, set()).add(out.strip())
    assert all(len(got) == 1 for got in ids.values()), ids  # duplicates got the winner's id
    winners = {key: got.pop() for key, got in ids.items()}
    assert len(set(winners.values())) == len(KEYS) + KEYLESS

    # Every request ends, committed or aborted with a reason.
    finals = {rid: federation.wait_done(rid) for rid in winners.values()}
    for record in finals.values():
        assert record.status in ("committed", "aborted")
        assert record.status == "committed" or record.error

    # `vfl requests list --json` and the journal itself show each exactly once, nothing else.
    listed = federation.vfl("requests", "list", "--json")
    out, err = listed.communicate(timeout=300)
    assert listed.returncode == 0, err
    rows = {r["id"]: r for r in json.loads(out)}
    assert set(rows) == set(winners.values())
    assert {r["idempotency_key"] for r in rows.values()} == {*KEYS, ""}
    journal = SqliteJournal(federation.state_dir / JOURNAL_FILE)
    journaled = journal.all()
    journal.close()
    assert sorted(r.id for r in journaled) == sorted(winners.values())
    keyed = [r.idempotency_key for r in journaled if r.idempotency_key]
    assert sorted(keyed) == sorted(KEYS)
    for key in KEYS:
        assert rows[winners[key]]["classes"] == [KEYS.index(key)]
        assert rows[winners[key]]["status"] == finals[winners[key]].status

    # They ran one at a time: no two requests' run intervals overlap.
    runs = sorted((r.started_at, r.finished_at) for r in journaled if r.started_at)
    assert len(runs) == len(journaled)
    assert all(end <= next_start for (_, end), (next_start, _) in pairwise(runs))
