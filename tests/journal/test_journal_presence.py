"""Issue 14 #6 in one process: a journal file that vanished under a running coordinator,
and a state dir whose history does not cover the parties' versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from vfl.txn.history import check_history_files, check_journal_covers
from vfl.txn.receipts import PRIVATE_KEY_FILE
from vfl.txn.records import RequestRecord
from vfl.txn.sqlite import JOURNAL_FILE, JournalError, SqliteJournal


def record(request_id: str) -> RequestRecord:
    return RequestRecord(id=request_id, kind="train", epochs=1)


@pytest.mark.parametrize("how", ["deleted", "replaced", "key-deleted"])
def test_nothing_is_journaled_into_a_file_that_vanished(tmp_path: Path, how: str) -> None:
    state = tmp_path / "state"
    journal = SqliteJournal.in_state_dir(state)
    journal.add(record("a"))
    path = state / JOURNAL_FILE
    if how == "deleted":
        path.unlink()
    elif how == "replaced":
        path.rename(tmp_path / "old")
        path.write_bytes(b"")
    else:
        (state / PRIVATE_KEY_FILE).unlink()
    with pytest.raises(JournalError, match="deleted"):
        journal.add(record("b"))
    with pytest.raises(JournalError, match="deleted"):
        journal.decide("a", {"active": (1, "d")})
    assert journal.get("b") is None and journal.decision("a") is None


def test_parties_above_v0_need_the_key_and_the_journal(tmp_path: Path) -> None:
    check_history_files(tmp_path, {"passive-0": 0})  # a new federation: nothing to lose
    with pytest.raises(JournalError, match=r"signing key .* is missing"):
        check_history_files(tmp_path, {"passive-0": 2, "passive-1": 2})
    journal = SqliteJournal.in_state_dir(tmp_path)
    journal.put(record("a").model_copy(update={"status": "committed"}))
    journal.add(record("b"))
    journal.decide("b", {"passive-0": (2, "d")})
    check_history_files(tmp_path, {"passive-0": 2})
    check_journal_covers(journal, {"passive-0": 2, "passive-1": 1})
    with pytest.raises(JournalError, match="up to v2 but passive-1 at v3: its rows were lost"):
        check_journal_covers(journal, {"passive-0": 2, "passive-1": 3})
