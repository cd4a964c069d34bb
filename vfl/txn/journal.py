"""Where request records live: the :class:`RequestJournal` protocol and :class:`MemoryJournal`.

The runner, recovery and the operator API only use this protocol, so the
durable :class:`~vfl.txn.sqlite.SqliteJournal` replaces :class:`MemoryJournal`
(the journal of an active party without ``--state-dir``) without touching them.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from vfl.txn.records import Decision, RequestRecord

__all__ = ["MemoryJournal", "RequestJournal"]


class RequestJournal(Protocol):
    """Request records, their commit decisions, and (if kept) their signed receipts."""

    def put(self, record: RequestRecord) -> None: ...
    def add(self, record: RequestRecord) -> RequestRecord:
        """Insert a new record, or return the one already holding its idempotency key."""
        ...

    def get(self, request_id: str) -> RequestRecord | None: ...
    def find_key(self, key: str) -> RequestRecord | None: ...
    def all(self) -> list[RequestRecord]: ...
    def page(self, offset: int, limit: int) -> list[RequestRecord]:
        """At most ``limit`` records from the ``offset``-th on, oldest first (rows only append)."""
        ...

    def decide(self, request_id: str, decision: Decision) -> None:
        """Durably record the commit decision: from here on the request only goes forward."""
        ...

    def decision(self, request_id: str) -> Decision | None: ...
    def receipt(self, request_id: str) -> dict[str, Any] | None:
        """The signed receipt of a committed request; ``None`` if this journal signs none."""
        ...


class MemoryJournal:
    """Records in a dict, oldest first; lost when the process exits, so it signs no receipts."""

    def __init__(self) -> None:
        self._records: dict[str, RequestRecord] = {}
        self._decisions: dict[str, Decision] = {}
        self._lock = threading.Lock()

    def decide(self, request_id: str, decision: Decision) -> None:
        with self._lock:
            self._decisions[request_id] = dict(decision)

    def decision(self, request_id: str) -> Decision | None:
        with self._lock:
            return self._decisions.get(request_id)

    def receipt(self, request_id: str) -> dict[str, Any] | None:
        return None

    def put(self, record: RequestRecord) -> None:
        with self._lock:
            self._records[record.id] = record.model_copy(deep=True)

    def add(self, record: RequestRecord) -> RequestRecord:
        with self._lock:
            existing = self._find(record.idempotency_key)
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
            return self._find(key)

    def _find(self, key: str) -> RequestRecord | None:
        """The record holding idempotency ``key`` (none for an empty key); hold the lock."""
        if not key:
            return None
        return next((r for r in self._records.values() if r.idempotency_key == key), None)

    def all(self) -> list[RequestRecord]:
        return self.page(0, 2**62)

    def page(self, offset: int, limit: int) -> list[RequestRecord]:
        with self._lock:
            rows = list(self._records.values())[offset : offset + limit]
            return [r.model_copy(deep=True) for r in rows]
