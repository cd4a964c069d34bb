"""The request worker: a queue, one thread, two-phase commit, and live progress for watchers.

Every request is all-or-nothing across parties, by two-phase commit:

1. every party must be at one version (else the request is refused: ``vfl repair``);
2. begin on every party under the request id (each remembers where an abort
   goes back to), and do the work;
3. prepare: every party durably writes its candidate next version;
4. the decision (each party's target version and digest) is journaled durably;
5. commit everywhere; a party that is down is retried until it is back.

A failure before the decision aborts everywhere (candidates are dropped,
every party is back where it began); after the decision the request only goes
forward, here or, if the coordinator dies, in restart recovery
(:mod:`vfl.txn.recovery`). The journal is a
:class:`~vfl.txn.journal.RequestJournal`, so the durable one replaces the
in-memory one without touching the worker or the servicer. Watchers follow a
request through :mod:`vfl.txn.events`. The points where a test may pause the
worker are :func:`~vfl.txn.pause.pause_point` calls.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from vfl.errors import IdempotencyConflictError, VFLError
from vfl.progress import ProgressEvent
from vfl.txn import recovery
from vfl.txn.events import Event, RequestEvents
from vfl.txn.journal import RequestJournal
from vfl.txn.limits import check_idempotency_key
from vfl.txn.pause import pause_point
from vfl.txn.records import Decision, RequestRecord
from vfl.txn.versions import (
    REPAIR_HINT,
    PartyInDoubtError,
    VersionedParties,
    at_decision,
    check_versions,
)

__all__ = [
    "ABORT_FAILED",
    "JOURNAL_RETRY_SECONDS",
    "InDoubt",
    "RequestAborted",
    "RequestRunner",
    "Work",
]

log = logging.getLogger(__name__)

JOURNAL_RETRY_SECONDS = 2.0
"""How often the worker retries writing an outcome the journal refused (a full disk)."""

EXCLUSIVE_WAIT_SECONDS = 30.0
"""How long ``repair``, ``align`` and ``predict`` wait for the worker between requests."""
ABORT_FAILED = "aborting failed too"
"""Marks an aborted row whose abort did not reach every party (a restart finds it again)."""

Work = Callable[[RequestRecord, Callable[[ProgressEvent], None]], dict[str, Any]]
"""``work(record, progress) -> metrics after``; may fill ``record.before``."""


class RequestAborted(VFLError):
    """The request was stopped before it finished; every party was aborted back."""


@dataclass
class InDoubt:
    """An abort that did not reach every party: their weights may not be their version's.

    ``expected`` is every party's digest before request ``token`` began (its
    version's weights). Until every party shows it again, nothing new runs.
    """

    token: str
    expected: dict[str, str]
    reason: str

    def parties(self, digests: dict[str, str]) -> list[str]:
        """The parties whose digest (missing: unreachable) is not the expected one."""
        return sorted(p for p, d in self.expected.items() if digests.get(p) != d)

    def refusal(self, repair: str) -> PartyInDoubtError:
        return PartyInDoubtError(
            f"request {self.token}'s abort did not reach every party ({self.reason}), so a "
            "party's weights may not be its version's; it is retried while nothing runs, "
            f"or run `{repair}` once every party answers"
        )


def _same_request(existing: RequestRecord, submitted: RequestRecord) -> RequestRecord:
    """``existing`` if ``submitted`` (which carries its idempotency key) asks for the same thing."""
    fields = ("kind", "classes", "samples", "method", "method_options", "unlearn_config", "epochs")
    theirs, ours = (tuple(getattr(r, f) for f in fields) for r in (existing, submitted))
    if theirs != ours:
        asked = ", ".join(f"{f} {getattr(existing, f)}" for f in fields if getattr(existing, f))
        raise IdempotencyConflictError(
            f"idempotency key {submitted.idempotency_key!r} is already used by request "
            f"{existing.id} ({asked}, {existing.status}); use a new key for a different request"
        )
    return existing


def _describe(record: RequestRecord) -> str:
    """``train, 5 epochs`` or ``unlearn [3] with luv, unlearn settings epochs=5``: what an
    operator asked for."""
    if record.kind == "unlearn":
        options = " ".join(f"{k}={v}" for k, v in record.method_options.items())
        settings = " ".join(f"{k}={v}" for k, v in record.unlearn_config.items())
        return (
            f"unlearn {record.classes} with {record.method}"
            + (f" ({options})" if options else "")
            + (f", unlearn settings {settings}" if settings else "")
        )
    relearn = f", relearning {record.classes}" if record.classes else ""
    return f"train, {record.epochs} epochs{relearn}"


def _message(exc: Exception) -> str:
    return str(exc) if isinstance(exc, VFLError) else f"{type(exc).__name__}: {exc}"


class RequestRunner:
    """Queues requests and runs them one at a time on a worker thread.

    With ``enforce_versions`` (the default; the active server turns it off when
    it keeps no checkpoints, since its model then restarts at version 0 while
    the passive parties keep theirs) a request is refused unless every party
    is at one version.

    ``on_commit`` runs after a request has committed everywhere. Watchers get
    a request's progress events and status changes as they happen
    (:meth:`watch`); a shutdown aborts the running request at its next
    progress event and aborts everything still queued.
    """

    def __init__(
        self,
        parties: VersionedParties,
        journal: RequestJournal,
        on_commit: Callable[[], None] = lambda: None,
        enforce_versions: bool = True,
        max_watchers: int = 4,
    ) -> None:
        self._parties = parties
        self._enforce_versions = enforce_versions
        self.journal = journal
        self._on_commit = on_commit
        self._queue: queue.Queue[tuple[str, Work] | None] = queue.Queue()
        self._events = RequestEvents(max_watchers)
        self._stopping = threading.Event()
        self._busy = threading.Lock()  # held while a request runs; a repair needs it too
        self._unjournaled: dict[str, RequestRecord] = {}  # final records the journal refused
        self.in_doubt: InDoubt | None = _left_in_doubt(journal)
        self.repair_command = REPAIR_HINT
        self.running = ""
        self._worker = threading.Thread(target=self._loop, name="vfl-requests", daemon=True)
        self._worker.start()

    # -- submitting and watching ------------------------------------------
    def submit(
        self, record: RequestRecord, work: Work, wanted: Callable[[], bool] = lambda: True
    ) -> RequestRecord:
        """Journal ``record`` and queue it; an idempotency key seen before returns that request.

        The key must have been given with the same parameters (kind, classes,
        method, epochs): a key reused for another request is refused with
        :class:`~vfl.errors.IdempotencyConflictError` naming the request it holds.
        ``wanted`` is asked just before the record is journaled: a submitter
        that gave up meanwhile (its deadline passed while a hung party held up
        the version check) was told it failed, so nothing is journaled for it.
        """
        check_idempotency_key(record.idempotency_key)
        if record.idempotency_key:
            existing = self.journal.find_key(record.idempotency_key)
            if existing is not None:
                return _same_request(existing, record)
        if self._stopping.is_set():
            raise RequestAborted("the coordinator is shutting down; submit again after restart")
        self._refuse_split_versions()
        record = record.model_copy(update={"id": record.id or uuid.uuid4().hex[:12]})
        if not wanted():
            log.warning("a %s request was not journaled: its submitter gave up first", record.kind)
            raise RequestAborted("the submitter gave up before the request was journaled")
        stored = self.journal.add(record)  # atomic: a concurrent duplicate key loses here
        if stored.id != record.id:
            return _same_request(stored, record)
        self._events.publish(record.id, record)  # journaled above: no second write to fail
        log.info("request %s accepted: %s", record.id, _describe(record))  # before it can run
        self._queue.put((record.id, work))
        return record

    def _refuse_split_versions(self) -> None:
        """Refuse a request up front while a party is in doubt, or when the parties
        disagree on their version.

        A party that cannot be reached is left to the worker, which aborts the
        request with that party's error. While a request runs, its commit moves
        the parties to the next version one by one, so a split seen then means
        nothing: the submission is queued and the worker checks again when the
        request starts.
        """
        if (doubt := self.settle()) is not None:  # retried unless the worker is at it
            raise doubt.refusal(self.repair_command)
        if not self._enforce_versions or not self._busy.acquire(blocking=False):
            return
        try:
            versions = self._parties.versions()
        except VFLError:
            return
        finally:
            self._busy.release()
        check_versions(versions, self.repair_command)

    def repair(self) -> int:
        """:func:`~vfl.txn.recovery.repair`, while no request runs; return the version.

        A party in doubt is first aborted again; if its weights still differ from
        its version's, every party reloads its version from disk.
        """
        with self.exclusive():
            doubt = self._settle()
            version = recovery.repair(self._parties, reload=doubt is not None)
            if doubt is not None:
                log.warning("repair: every party reloaded v%d (request %s)", version, doubt.token)
                self.in_doubt = None
            return version

    # -- a party in doubt ---------------------------------------------------
    def settle(self) -> InDoubt | None:
        """Retry a failed abort now if no request runs; what is still in doubt."""
        if self.in_doubt is None or not self._busy.acquire(blocking=False):
            return self.in_doubt
        try:
            return self._settle()
        finally:
            self._busy.release()

    def _settle(self) -> InDoubt | None:
        """Abort the request again wherever it is open; settled once every party shows
        its pre-request digest. The caller holds ``_busy``."""
        doubt = self.in_doubt
        if doubt is None:
            return None
        try:
            self._parties.abort_if_open(doubt.token)
            off = doubt.parties(self._parties.digests())
        except Exception as exc:  # still out of reach
            doubt.reason = f"{ABORT_FAILED}: {_message(exc)}"
            return doubt
        if off:
            doubt.reason = f"{', '.join(off)} not at the pre-request digest after the abort"
            return doubt
        log.warning(
            "request %s: the abort reached every party now; nothing is in doubt", doubt.token
        )
        self.in_doubt = None
        return None

    def queued(self) -> int:
        return self._queue.qsize()

    def watch(self, request_id: str, alive: Callable[[], bool] = lambda: True) -> Iterator[Event]:
        """:meth:`~vfl.txn.events.RequestEvents.watch`: the request's events, then live."""
        return self._events.watch(request_id, alive)

    def watch_slot(self) -> AbstractContextManager[None]:
        """One of the bounded watcher slots (:meth:`~vfl.txn.events.RequestEvents.slot`)."""
        return self._events.slot()

    # -- the worker ---------------------------------------------------------
    def _publish(self, item: Event, request_id: str = "") -> None:
        """Journal a record (progress events are not journaled); tell the watchers.

        A final record the journal cannot take (a full disk) still reaches the
        watchers, with the reason, so no ``--wait`` hangs on it; the worker
        writes it again every :data:`JOURNAL_RETRY_SECONDS` until the journal
        takes it, and the row then agrees with what the watchers were told.
        A record that is not final re-raises, which aborts its request.
        """
        if isinstance(item, RequestRecord):
            request_id = item.id
            try:
                self.journal.put(item)
                self._unjournaled.pop(item.id, None)
            except Exception as exc:
                if not item.done:
                    raise
                log.error("request %s: the journal cannot record its outcome: %s", item.id, exc)
                self._unjournaled[item.id] = item.model_copy(deep=True)
                note = f"the journal could not record this outcome ({exc}); it is retried"
                told = "; ".join(filter(None, [item.error, note]))
                item = item.model_copy(update={"error": told})
        self._events.publish(request_id, item)

    def _retry_journal(self) -> None:
        """Write the outcomes the journal refused before, oldest first; keep the rest for later."""
        for request_id, record in list(self._unjournaled.items()):
            try:
                self.journal.put(record)
            except Exception:
                return
            log.warning("request %s: its outcome is journaled now", request_id)
            del self._unjournaled[request_id]

    def _next(self) -> tuple[str, Work] | None:
        """The next queued request; meanwhile, retry journal writes that failed."""
        while True:
            retry = self._unjournaled or self.in_doubt is not None
            try:
                item = self._queue.get(timeout=JOURNAL_RETRY_SECONDS if retry else None)
            except queue.Empty:
                self._retry_journal()
                self.settle()  # a party in doubt that is back is settled without a request
                continue
            self._retry_journal()
            return item

    def _loop(self) -> None:
        while (item := self._next()) is not None:
            request_id, work = item
            record = self.journal.get(request_id)
            assert record is not None
            if self._stopping.is_set():
                self._finish(record, "aborted", "the coordinator shut down before it ran")
                continue
            with self._busy:
                self.running = request_id
                try:
                    self._run(record, work)
                except Exception:  # the journal could not be written: keep serving, say so
                    log.exception("request %s: its outcome could not be journaled", request_id)
                finally:
                    self.running = ""

    def _progress(self, request_id: str) -> Callable[[ProgressEvent], None]:
        phases: set[str] = set()

        def on_event(event: ProgressEvent) -> None:
            if self._stopping.is_set():
                raise RequestAborted("the coordinator is shutting down")
            if event.phase not in phases:
                phases.add(event.phase)
                log.info("request %s: phase %s", request_id, event.phase)
            self._publish(event, request_id)
            pause_point("work")

        return on_event

    def _run(self, record: RequestRecord, work: Work) -> None:
        """Check versions, begin, work, prepare, decide, commit; before the decision
        any failure (a party down included) aborts.

        Nothing here may escape: the worker thread must survive every request.
        """
        record.status, record.started_at = "running", time.time()
        try:
            if (doubt := self._settle()) is not None:
                raise doubt.refusal(self.repair_command)
            if self._enforce_versions:
                check_versions(self._parties.versions(), self.repair_command)
        except Exception as exc:  # refused: nothing was touched, so nothing to abort
            self._finish(record, "aborted", _message(exc))
            return
        try:
            record.digests_before = self._parties.digests()
            self._publish(record)  # journaled with the digests a restart must return to
            log.info("request %s: begin on every party", record.id)
            self._parties.begin(record.id)
            record.after = work(record, self._progress(record.id))
            log.info("request %s: prepare", record.id)
            decision = self._parties.prepare(record.id)
            pause_point("prepared")
            # Decide only while every party still answers: one lost between its
            # prepare and the decision aborts the request instead of blocking
            # the federation until it returns.
            self._parties.versions()
            self.journal.decide(record.id, decision)
            log.info("request %s: decided, committing", record.id)
        except Exception as exc:  # every failure aborts the request, whatever its type
            self._abort(record, exc)
            return
        pause_point("decided")
        if not self._commit_decided(record, decision):
            return  # shutting down: the restarted coordinator rolls it forward
        self._on_commit()
        try:
            record.digests_after = self._parties.digests()
        except Exception as exc:  # committed everywhere; only the report is incomplete
            log.warning("request %s committed, but reading digests failed: %s", record.id, exc)
        self._finish(record, "committed")

    def _commit_decided(self, record: RequestRecord, decision: Decision) -> bool:
        """Commit everywhere, retrying a party that is down until it is back.

        A party that restarted still holds its prepared candidate on disk, and a
        repeated commit is a no-op, so retrying the whole commit is safe. Returns
        False only when the coordinator shuts down first.
        """
        while True:
            try:
                self._parties.commit(record.id)
                return True
            except Exception as exc:
                if at_decision(self._parties, decision):
                    return True
                if self._stopping.is_set():
                    log.warning("request %s: shutting down before every party committed", record.id)
                    return False
                log.warning("request %s: commit pending, retrying: %s", record.id, exc)
                time.sleep(1.0)

    @contextmanager
    def exclusive(self, what: str = "repair") -> Iterator[None]:
        """Hold off requests (for ``vfl repair``, ``align``, ``predict``); refuse if one
        is running now, so nothing reads or replaces a model mid-request (a retried
        abort between requests is waited for: it takes at most a few quick deadlines)."""
        if not self._busy.acquire(timeout=0 if self.running else EXCLUSIVE_WAIT_SECONDS):
            raise VFLError(f"request {self.running or '?'} is running; {what} once it ends")
        try:
            yield
        finally:
            self._busy.release()

    def _abort(self, record: RequestRecord, exc: Exception) -> None:
        message = _message(exc)
        try:
            self._parties.abort(record.id)
            record.digests_after = self._parties.digests()
        except Exception as abort_exc:  # a party is gone: say so, keep the first cause
            message += f"; {ABORT_FAILED}: {_message(abort_exc)}"
            # its weights are unknown until the abort reaches it: retried before anything runs
            self.in_doubt = InDoubt(
                record.id, dict(record.digests_before), f"{ABORT_FAILED}: {_message(abort_exc)}"
            )
        self._finish(record, "aborted", message)

    def _finish(self, record: RequestRecord, status: str, error: str = "") -> None:
        record.status, record.error, record.finished_at = status, error, time.time()  # type: ignore[assignment]
        if error:
            log.warning("request %s %s: %s", record.id, status, error)
        else:
            log.info("request %s %s", record.id, status)
        self._publish(record)  # final: the watchers' history is compacted to it

    def shutdown(self, timeout: float = 60.0) -> None:
        """Abort the running request (at its next progress event) and everything queued."""
        self._stopping.set()
        self._queue.put(None)
        self._worker.join(timeout)


def _left_in_doubt(journal: RequestJournal) -> InDoubt | None:
    """A previous coordinator's failed abort, if its newest finished request had one."""
    finished = [r for r in journal.all() if r.done]
    last = max(finished, key=lambda r: r.finished_at, default=None)
    if last is None or last.status != "aborted" or ABORT_FAILED not in last.error:
        return None
    return InDoubt(last.id, dict(last.digests_before), "left by the previous coordinator")
