"""The SQLite journal: rows survive reopening, idempotency keys are race-free, recovery aborts."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from vfl.txn.journal import MemoryJournal
from vfl.txn.records import RequestRecord
from vfl.txn.recovery import RESTART_REASON, recover_unfinished
from vfl.txn.sqlite import JOURNAL_FILE, JournalError, SqliteJournal


def record(rid: str, key: str = "", **fields) -> RequestRecord:
    return RequestRecord(id=rid, kind="unlearn", classes=[3, 5], method="luv",
                         idempotency_key=key, **fields)  # fmt: skip


def test_every_field_survives_a_reopen(tmp_path: Path) -> None:
    full = record(
        "r1", "k1", status="committed", epochs=2, error="", started_at=2.0, finished_at=3.0,
        before={"test_acc": 0.9}, after={"test_acc": 0.8, "forgotten_acc": 0.0},
        digests_before={"passive-0": "a", "active": "b"},
        digests_after={"passive-0": "c", "active": "d"},
    )  # fmt: skip
    journal = SqliteJournal.in_state_dir(tmp_path, sign=False)
    journal.put(full)
    journal.put(record("r2"))
    journal.close()
    reopened = SqliteJournal(tmp_path / JOURNAL_FILE)
    assert reopened.get("r1") == full
    assert [r.id for r in reopened.all()] == ["r1", "r2"]
    assert reopened.find_key("k1") == full and reopened.find_key("") is None
    assert reopened.get("nope") is None and reopened.receipt("r1") is None
    mode = sqlite3.connect(tmp_path / JOURNAL_FILE).execute("PRAGMA journal_mode").fetchone()
    assert mode == ("wal",)


def test_concurrent_adds_with_duplicate_keys_journal_each_key_once(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / JOURNAL_FILE)
    results: dict[str, str] = {}
    start = threading.Barrier(20)

    def submit(i: int) -> None:
        start.wait()
        key = f"key-{i % 5}" if i < 15 else ""  # 15 submissions over 5 keys, 5 without a key
        results[f"r{i}"] = journal.add(record(f"r{i}", key)).id

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = journal.all()
    assert len(rows) == 5 + 5
    by_key = {r.idempotency_key: r.id for r in rows if r.idempotency_key}
    assert sorted(by_key) == [f"key-{k}" for k in range(5)]
    for i in range(15):  # every duplicate got the row that won its key
        assert results[f"r{i}"] == by_key[f"key-{i % 5}"]
    assert {results[f"r{i}"] for i in range(15, 20)} == {f"r{i}" for i in range(15, 20)}


def test_memory_journal_add_dedupes_too() -> None:
    journal = MemoryJournal()
    assert journal.add(record("a", "k")).id == "a"
    assert journal.add(record("b", "k")).id == "a"
    assert [r.id for r in journal.all()] == ["a"]


def test_recovery_aborts_unfinished_rows_and_names_parties_not_back(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / JOURNAL_FILE)
    journal.put(record("done", status="committed"))
    journal.put(record("run", status="running", digests_before={"p0": "x", "active": "y"}))
    journal.put(record("wait"))
    restored: list[str] = []

    def restore(token: str) -> list[str]:
        restored.append(token)
        return []

    aborted = recover_unfinished(journal, restore, lambda: {"p0": "moved", "active": "y"})
    assert [r.id for r in aborted] == ["run", "wait"]
    assert restored == ["run"]  # a queued request never snapshotted anything
    assert journal.get("done").status == "committed"
    assert journal.get("wait").error == RESTART_REASON
    run = journal.get("run")
    assert run.status == "aborted" and run.error.startswith(RESTART_REASON)
    assert "not at the pre-request digest: p0" in run.error
    assert run.digests_before == {"p0": "x", "active": "y"} and run.finished_at > 0
    assert recover_unfinished(journal, restore, dict) == []  # nothing left to recover


def test_an_unusable_journal_path_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(JournalError, match="cannot open the request journal"):
        SqliteJournal(blocker / JOURNAL_FILE)
