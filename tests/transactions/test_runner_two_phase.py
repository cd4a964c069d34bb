"""The request runner's two-phase commit and version check, in one process (fast)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from vfl.coordinator import Coordinator
from vfl.federation import FederationSpec
from vfl.party.store import CheckpointStore
from vfl.transport import open_federation
from vfl.txn.journal import MemoryJournal
from vfl.txn.records import Decision, RequestRecord
from vfl.txn.runner import RequestRunner
from vfl.txn.sqlite import JournalError
from vfl.txn.versions import VersionMismatchError

SPEC = FederationSpec(dataset="digits", parties=2, seed=0)


def final(runner: RequestRunner, request_id: str) -> RequestRecord:
    return [e for e in runner.watch(request_id) if isinstance(e, RequestRecord)][-1]


def run(runner: RequestRunner, co: Coordinator) -> RequestRecord:
    """Submit a train request whose work changes every party's weights; its final record."""
    return final(runner, runner.submit(RequestRecord(id="", kind="train"), change_weights(co)).id)


def change_weights(co: Coordinator):
    def work(record: RequestRecord, progress) -> dict:
        co.reinitialize(len(record.id))
        return {}

    return work


def test_a_prepare_that_cannot_write_aborts_everywhere_and_journals_no_decision(
    tmp_path: Path,
) -> None:
    with open_federation("inprocess", SPEC, SPEC.load()) as co:
        store = CheckpointStore(tmp_path / "active", "active")
        store.load_into(co.active)
        journal = MemoryJournal()
        runner = RequestRunner(co, journal, lambda: None)
        before = co.digests()
        (tmp_path / "full").write_text("")
        store.dir = tmp_path / "full" / "versions"  # a path under a regular file
        failed = final(
            runner, runner.submit(RequestRecord(id="", kind="train"), change_weights(co)).id
        )
        assert failed.status == "aborted" and "cannot write checkpoint" in failed.error
        assert co.digests() == before and journal.decision(failed.id) is None
        assert co.versions() == {"passive-0": 0, "passive-1": 0, "active": 0}

        store.dir = tmp_path / "active" / "versions"
        done = final(
            runner, runner.submit(RequestRecord(id="", kind="train"), change_weights(co)).id
        )
        assert done.status == "committed"
        decided = journal.decision(done.id)
        assert decided == {p: (1, d) for p, d in co.digests().items()} and store.versions() == [
            0,
            1,
        ]


def test_split_versions_refuse_requests_naming_each_party_until_a_repair() -> None:
    with open_federation("inprocess", SPEC, SPEC.load()) as co:
        runner = RequestRunner(co, MemoryJournal(), lambda: None)
        runner.repair_command = "vfl repair --coordinator 10.0.0.1:50050"
        co.active.version = 2  # e.g. the other parties fell back to an older checkpoint
        with pytest.raises(VersionMismatchError) as refused:
            runner.submit(RequestRecord(id="", kind="train"), change_weights(co))
        message = str(refused.value)
        assert "passive-0 at v0, passive-1 at v0, active at v2" in message
        assert "vfl repair --coordinator 10.0.0.1:50050" in message and "(v0)" in message
        assert runner.journal.all() == []  # refused: nothing journaled

        with pytest.raises(Exception, match="keeps no checkpoints"):
            runner.repair()  # in-process parties hold no older versions on disk
        co.active.version = 0
        assert runner.repair() == 0
        done = final(
            runner, runner.submit(RequestRecord(id="", kind="train"), change_weights(co)).id
        )
        assert done.status == "committed" and set(co.versions().values()) == {1}


class FillingJournal(MemoryJournal):
    """A journal whose disk fills up after the submission was journaled (issue 14 #5)."""

    full = False

    def put(self, record: RequestRecord) -> None:
        if self.full:
            raise JournalError("request journal: database or disk is full")
        super().put(record)

    def decide(self, request_id: str, decision: Decision) -> None:
        if self.full:
            raise JournalError("request journal: database or disk is full")
        super().decide(request_id, decision)


def test_a_journal_that_fills_up_still_ends_the_watch_and_catches_up_once_freed() -> None:
    with open_federation("inprocess", SPEC, SPEC.load()) as co:
        journal = FillingJournal()
        runner = RequestRunner(co, journal, lambda: None)
        before = co.digests()

        def fill_then_work(record: RequestRecord, progress) -> dict:
            journal.full = True  # journaled as running; nothing after that fits
            return change_weights(co)(record, progress)

        request = runner.submit(RequestRecord(id="", kind="train"), fill_then_work)
        told = final(runner, request.id)  # returns: the watcher is not left waiting
        assert told.status == "aborted" and "disk is full" in told.error
        assert "the journal could not record this outcome" in told.error
        assert co.digests() == before  # aborted everywhere
        assert journal.get(request.id).status == "running"  # the disk is still full
        journal.full = False
        deadline = time.monotonic() + 60
        while journal.get(request.id).status != "aborted":
            assert time.monotonic() < deadline, "the outcome was never journaled"
            time.sleep(0.05)
        assert "disk is full" in journal.get(request.id).error
        runner.shutdown()
