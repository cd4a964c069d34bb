"""What a committed request's receipt says, and the coordinator's signer for it.

The signing and checking live in :mod:`vfl.receipts`; this module only picks
the fields of a :class:`RequestRecord` that a receipt vouches for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vfl.grpc.records import RequestRecord
from vfl.receipts import load_or_create_key, sign_receipt

__all__ = ["ReceiptSigner", "receipt_payload"]

RECEIPT_VERSION = 1


def receipt_payload(record: RequestRecord) -> dict[str, Any]:
    """The request, its classes and method, per-party digests before/after, metrics, times."""
    return {
        "receipt_version": RECEIPT_VERSION,
        "request_id": record.id,
        "kind": record.kind,
        "status": record.status,
        "classes": record.classes,
        "method": record.method,
        "params": {"epochs": record.epochs},
        "digests_before": record.digests_before,
        "digests_after": record.digests_after,
        "metrics": {"before": record.before, "after": record.after},
        "times": {
            "created_at": record.created_at,
            "started_at": record.started_at,
            "finished_at": record.finished_at,
        },
    }


class ReceiptSigner:
    """Signs receipts with the Ed25519 key kept in the coordinator's state dir."""

    def __init__(self, state_dir: Path) -> None:
        self._key = load_or_create_key(state_dir)

    def sign(self, record: RequestRecord) -> dict[str, Any]:
        return sign_receipt(receipt_payload(record), self._key)
