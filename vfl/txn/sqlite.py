"""The durable request journal: one SQLite row per request, in ``<state-dir>/journal.sqlite3``.

Why SQLite: it is in the standard library, a write is durable once it returns
(WAL mode, ``synchronous=FULL``), and a UNIQUE index makes idempotency keys
race-free: two submissions with one key cannot both be inserted, whatever the
timing. Committed rows carry the coordinator's signed receipt, written in the
same statement as the status so a committed row never lacks one.

The ``decision`` column is two-phase commit's internal phase: once every party
has prepared, the runner writes each party's target ``[version, digest]``
there, and from then on the request can only be rolled forward (the public
status stays ``running`` until every party has committed).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from vfl.errors import VFLError
from vfl.txn.receipts import ReceiptSigner
from vfl.txn.records import Decision, RequestRecord

__all__ = ["JOURNAL_FILE", "JournalError", "SqliteJournal"]

JOURNAL_FILE = "journal.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    idempotency_key TEXT UNIQUE,            -- NULL when the submitter gave none
    kind            TEXT NOT NULL,
    classes         TEXT NOT NULL,          -- JSON list
    method          TEXT NOT NULL,
    params          TEXT NOT NULL,          -- JSON object
    status          TEXT NOT NULL,
    created_at      REAL NOT NULL,
    started_at      REAL NOT NULL,
    finished_at     REAL NOT NULL,
    metrics         TEXT NOT NULL,          -- JSON {"before": {...}, "after": {...}}
    digests_before  TEXT NOT NULL,          -- JSON {party: digest}
    digests_after   TEXT NOT NULL,
    error           TEXT NOT NULL,
    receipt         TEXT,                   -- JSON signed receipt, committed rows only
    decision        TEXT                    -- JSON {party: [version, digest]} once decided
)
"""
_COLUMNS = (
    "id", "idempotency_key", "kind", "classes", "method", "params", "status", "created_at",
    "started_at", "finished_at", "metrics", "digests_before", "digests_after", "error", "receipt",
)  # fmt: skip
_INSERT = f"INSERT INTO requests ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_UPSERT = (
    f"{_INSERT} ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c not in ("id", "receipt"))
    + ", receipt = COALESCE(excluded.receipt, requests.receipt)"
)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM requests"


class JournalError(VFLError):
    """The journal file cannot be opened or written."""


def _file_identity(path: Path) -> tuple[int, int]:
    """Which file ``path`` is: (device, inode)."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _params(record: RequestRecord) -> dict[str, Any]:
    """The ``params`` column: epochs, and samples, method options and unlearn settings
    when there are any."""
    extra = {
        "samples": record.samples,
        "method_options": record.method_options,
        "unlearn_config": record.unlearn_config,
    }
    return {"epochs": record.epochs, **{k: v for k, v in extra.items() if v}}


def _row(record: RequestRecord, receipt: dict[str, Any] | None) -> tuple[Any, ...]:
    return (
        record.id,
        record.idempotency_key or None,
        record.kind,
        json.dumps(record.classes),
        record.method,
        json.dumps(_params(record)),
        record.status,
        record.created_at,
        record.started_at,
        record.finished_at,
        json.dumps({"before": record.before, "after": record.after}),
        json.dumps(record.digests_before),
        json.dumps(record.digests_after),
        record.error,
        json.dumps(receipt) if receipt is not None else None,
    )


def _record(row: sqlite3.Row) -> RequestRecord:
    metrics = json.loads(row["metrics"])
    return RequestRecord(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        classes=json.loads(row["classes"]),
        method=row["method"],
        epochs=(params := json.loads(row["params"])).get("epochs", 0),
        samples=params.get("samples", []),
        method_options=params.get("method_options", {}),
        unlearn_config=params.get("unlearn_config", {}),
        idempotency_key=row["idempotency_key"] or "",
        error=row["error"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        before=metrics.get("before", {}),
        after=metrics.get("after", {}),
        digests_before=json.loads(row["digests_before"]),
        digests_after=json.loads(row["digests_after"]),
    )


class SqliteJournal:
    """A :class:`~vfl.txn.journal.RequestJournal` that survives restarts.

    With a ``signer``, a record written as ``committed`` gets its receipt in
    the same row update.
    """

    def __init__(self, path: Path, signer: ReceiptSigner | None = None) -> None:
        self.path = Path(path)
        self._signer = signer
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
            columns = {row["name"] for row in self._db.execute("PRAGMA table_info(requests)")}
            if "decision" not in columns:  # a journal written before two-phase commit
                self._db.execute("ALTER TABLE requests ADD COLUMN decision TEXT")
            self._identity = _file_identity(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"cannot open the request journal {self.path}: {exc}") from exc

    def check_present(self) -> None:
        """Refuse to journal into a file that is no longer the one at ``path``.

        SQLite keeps writing to a file that was deleted (or whose folder was)
        while it is open: every later row would be lost on restart. So a new
        request or a commit decision first checks that the journal file (and
        the signing key beside it) are still where they were.
        """
        try:
            same = _file_identity(self.path) == self._identity
        except OSError:
            same = False
        if not same:
            raise JournalError(
                f"the request journal {self.path} was deleted or replaced while the "
                "coordinator ran: nothing more is journaled; restore the state dir and restart"
            )
        if self._signer is not None and not self._signer.key_path.exists():
            raise JournalError(
                f"the signing key {self._signer.key_path} was deleted while the coordinator "
                "ran: nothing more is signed; restore it and restart"
            )

    @classmethod
    def in_state_dir(cls, state_dir: Path, sign: bool = True) -> SqliteJournal:
        signer = ReceiptSigner(state_dir) if sign else None
        return cls(Path(state_dir) / JOURNAL_FILE, signer)

    def _execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.IntegrityError:
                raise
            except sqlite3.Error as exc:
                raise JournalError(f"request journal {self.path}: {exc}") from exc

    def put(self, record: RequestRecord) -> None:
        """Insert or update the row with ``record.id``."""
        receipt = None
        if record.status == "committed" and self._signer is not None:
            receipt = self._signer.sign(record)
        self._execute(_UPSERT, _row(record, receipt))

    def add(self, record: RequestRecord) -> RequestRecord:
        """Insert a new request; if its idempotency key is taken, return that request instead."""
        self.check_present()
        try:
            self._execute(_INSERT, _row(record, None))
        except sqlite3.IntegrityError:
            existing = self.find_key(record.idempotency_key)
            if existing is None:  # the id collided, not the key: a caller bug
                raise JournalError(f"request id {record.id!r} is already journaled") from None
            return existing
        return record

    def get(self, request_id: str) -> RequestRecord | None:
        rows = self._execute(f"{_SELECT} WHERE id = ?", (request_id,))
        return _record(rows[0]) if rows else None

    def find_key(self, key: str) -> RequestRecord | None:
        if not key:
            return None
        rows = self._execute(f"{_SELECT} WHERE idempotency_key = ?", (key,))
        return _record(rows[0]) if rows else None

    def all(self) -> list[RequestRecord]:
        return [_record(row) for row in self._execute(f"{_SELECT} ORDER BY seq")]

    def page(self, offset: int, limit: int) -> list[RequestRecord]:
        rows = self._execute(f"{_SELECT} ORDER BY seq LIMIT ? OFFSET ?", (limit, offset))
        return [_record(row) for row in rows]

    def receipt(self, request_id: str) -> dict[str, Any] | None:
        rows = self._execute("SELECT receipt FROM requests WHERE id = ?", (request_id,))
        return json.loads(rows[0]["receipt"]) if rows and rows[0]["receipt"] else None

    def decide(self, request_id: str, decision: Decision) -> None:
        """Journal the commit decision, unless the journal file vanished (then the request
        aborts: a decision only in a deleted file would be lost on restart)."""
        self.check_present()
        self._execute(
            "UPDATE requests SET decision = ? WHERE id = ?", (json.dumps(decision), request_id)
        )

    def decision(self, request_id: str) -> Decision | None:
        rows = self._execute("SELECT decision FROM requests WHERE id = ?", (request_id,))
        if not rows or not rows[0]["decision"]:
            return None
        return {p: (int(v), str(d)) for p, (v, d) in json.loads(rows[0]["decision"]).items()}

    def highest_version(self) -> int:
        """The highest model version this journal accounts for (0: none).

        Versions only grow by committed requests (a repair only goes back), so
        no party can be above the newest decision, nor above the number of
        committed rows (journals older than decisions have only those). A party
        above it means rows were lost.
        """
        rows = self._execute("SELECT decision FROM requests WHERE decision IS NOT NULL")
        decided = (int(v) for row in rows for v, _ in json.loads(row["decision"]).values())
        count = self._execute("SELECT COUNT(*) AS n FROM requests WHERE status = 'committed'")
        return max(max(decided, default=0), int(count[0]["n"]))

    def close(self) -> None:
        with self._lock:
            self._db.close()
