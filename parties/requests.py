"""Requests at the active party: a journal, and one worker that runs them in order.

Every request is all-or-nothing across parties: the worker snapshots every
party under the request id, does the work, then commits everywhere (each party
persists its new version) or, on any error or shutdown, restores everywhere.
The journal is an interface so a durable one (SQLite, two-phase commit,
receipts) can replace :class:`MemoryJournal` without touching the worker or
the servicer.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from vfl.errors import VFLError
from vfl.grpc.records import RequestRecord
from vfl.progress import ProgressEvent

__all__ = ["MemoryJournal", "RequestAborted", "RequestJournal", "RequestRunner", "Work"]

log = logging.getLogger(__name__)

Work = Callable[[RequestRecord, Callable[[ProgressEvent], None]], dict[str, Any]]
"""``work(record, progress) -> metrics after``; may fill ``record.before``."""


class RequestAborted(VFLError):
    """The request was stopped before it finished; every party was restored."""


class RequestJournal(Protocol):
    """Where request records live: :class:`MemoryJournal`, or the durable ``SqliteJournal``."""

    def put(self, record: RequestRecord) -> None: ...
    def add(self, record: RequestRecord) -> RequestRecord:
        """Insert a new record, or return the one already holding its idempotency key."""
        ...

    def get(self, request_id: str) -> RequestRecord | None: ...
    def find_key(self, key: str) -> RequestRecord | None: ...
    def all(self) -> list[RequestRecord]: ...


class MemoryJournal:
    """Records in a dict, oldest first; lost when the process exits."""

    def __init__(self) -> None:
        self._records: dict[str, RequestRecord] = {}
        self._lock = threading.Lock()

    def put(self, record: RequestRecord) -> None:
        with self._lock:
            self._records[record.id] = record.model_copy(deep=True)

    def add(self, record: RequestRecord) -> RequestRecord:
        with self._lock:
            key = record.idempotency_key
            existing = key and next(
                (r for r in self._records.values() if r.idempotency_key == key), None
            )
            if existing:
                return existing.model_copy(deep=True)
            self._records[record.id] = record.model_copy(deep=True)
            return record

    def get(self, request_id: str) -> RequestRecord | None:
        with self._lock:
            record = self._records.get(request_id)
            return record.model_copy(deep=True) if record else None

    def find_key(self, key: str) -> RequestRecord | None:
        with self._lock:
            return next((r for r in self._records.values() if r.idempotency_key == key), None)

    def all(self) -> list[RequestRecord]:
        with self._lock:
            return [r.model_copy(deep=True) for r in self._records.values()]


class Transaction(Protocol):
    """The parties' all-or-nothing operations (the :class:`~vfl.coordinator.Coordinator`)."""

    def snapshot(self, token: str) -> None: ...
    def restore(self, token: str) -> None: ...
    def commit(self, token: str) -> list[int]: ...
    def digests(self) -> dict[str, str]: ...


def _is_final(event: ProgressEvent | RequestRecord) -> bool:
    return isinstance(event, RequestRecord) and event.done


class RequestRunner:
    """Queues requests and runs them one at a time on a worker thread.

    Watchers get a request's progress events and status changes as they
    happen (:meth:`watch`); a shutdown aborts the running request at its next
    progress event and aborts everything still queued.
    """

    def __init__(
        self, parties: Transaction, journal: RequestJournal, on_commit: Callable[[], None]
    ) -> None:
        self._parties = parties
        self.journal = journal
        self._on_commit = on_commit
        self._queue: queue.Queue[tuple[str, Work] | None] = queue.Queue()
        self._events: dict[str, list[ProgressEvent | RequestRecord]] = {}
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self.running = ""
        self._worker = threading.Thread(target=self._loop, name="vfl-requests", daemon=True)
        self._worker.start()

    # -- submitting and watching ------------------------------------------
    def submit(self, record: RequestRecord, work: Work) -> RequestRecord:
        """Journal ``record`` and queue it; an idempotency key seen before returns that request."""
        if record.idempotency_key:
            existing = self.journal.find_key(record.idempotency_key)
            if existing is not None:
                return existing
        if self._stopping.is_set():
            raise RequestAborted("the coordinator is shutting down; submit again after restart")
        record = record.model_copy(update={"id": record.id or uuid.uuid4().hex[:12]})
        stored = self.journal.add(record)  # atomic: a concurrent duplicate key loses here
        if stored.id != record.id:
            return stored
        self._publish(record)
        self._queue.put((record.id, work))
        return record

    def queued(self) -> int:
        return self._queue.qsize()

    def watch(
        self, request_id: str, alive: Callable[[], bool] = lambda: True
    ) -> Iterator[ProgressEvent | RequestRecord]:
        """Every event of the request so far and then live, until it is committed or aborted.

        ``alive`` is polled every second so an abandoned watcher does not hang on.
        """
        seen = 0
        while alive():
            with self._changed:
                self._changed.wait_for(
                    lambda n=seen: len(self._events.get(request_id, [])) > n, timeout=1.0
                )
                events = list(self._events.get(request_id, []))
            new = events[seen:]
            final = events[-1] if events and _is_final(events[-1]) else None
            if final is not None and not (new and _is_final(new[-1])):
                new = [final]  # the history was compacted when the request finished
            if not new:
                continue
            seen += len(new)
            yield from new
            last = new[-1]
            if isinstance(last, RequestRecord) and last.done:
                return

    # -- the worker ---------------------------------------------------------
    def _publish(self, item: RequestRecord | ProgressEvent, request_id: str = "") -> None:
        if isinstance(item, RequestRecord):
            self.journal.put(item)
            request_id = item.id
        with self._changed:
            self._events.setdefault(request_id, []).append(item)
            self._changed.notify_all()

    def _loop(self) -> None:
        while (item := self._queue.get()) is not None:
            request_id, work = item
            record = self.journal.get(request_id)
            assert record is not None
            if self._stopping.is_set():
                self._finish(record, "aborted", "the coordinator shut down before it ran")
                continue
            self.running = request_id
            try:
                self._run(record, work)
            except Exception:  # the journal could not be written: keep serving, say so
                log.exception("request %s: its outcome could not be journaled", request_id)
            finally:
                self.running = ""

    def _progress(self, request_id: str) -> Callable[[ProgressEvent], None]:
        def on_event(event: ProgressEvent) -> None:
            if self._stopping.is_set():
                raise RequestAborted("the coordinator is shutting down")
            self._publish(event, request_id)

        return on_event

    def _run(self, record: RequestRecord, work: Work) -> None:
        """Snapshot, work, commit; any failure (a party down included) restores and aborts.

        Nothing here may escape: the worker thread must survive every request.
        """
        record.status, record.started_at = "running", time.time()
        try:
            record.digests_before = self._parties.digests()
            self._publish(record)  # journaled with the digests a restart must return to
            self._parties.snapshot(record.id)
            record.after = work(record, self._progress(record.id))
            self._parties.commit(record.id)
            self._on_commit()
        except Exception as exc:  # every failure aborts the request, whatever its type
            log.warning("request %s aborted: %s", record.id, exc)
            self._abort(record, exc)
            return
        try:
            record.digests_after = self._parties.digests()
        except Exception as exc:  # committed everywhere; only the report is incomplete
            log.warning("request %s committed, but reading digests failed: %s", record.id, exc)
        self._finish(record, "committed")

    def _abort(self, record: RequestRecord, exc: Exception) -> None:
        message = str(exc) if isinstance(exc, VFLError) else f"{type(exc).__name__}: {exc}"
        try:
            self._parties.restore(record.id)
            record.digests_after = self._parties.digests()
        except Exception as restore_exc:  # a party is gone: say so, keep the first cause
            message += f"; restoring failed too: {restore_exc}"
        self._finish(record, "aborted", message)

    def _finish(self, record: RequestRecord, status: str, error: str = "") -> None:
        record.status, record.error, record.finished_at = status, error, time.time()  # type: ignore[assignment]
        self._publish(record)
        with self._changed:  # progress is only for live watchers: keep the final record
            self._events[record.id] = [record]

    def shutdown(self, timeout: float = 60.0) -> None:
        """Abort the running request (at its next progress event) and everything queued."""
        self._stopping.set()
        self._queue.put(None)
        self._worker.join(timeout)
