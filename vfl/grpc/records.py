"""What the operator API talks about: requests and party status, as typed records.

The active party keeps :class:`RequestRecord`\\ s in a journal; operators get
the same records back through :mod:`vfl.grpc.operator`. Conversion to and from
protobuf lives in :mod:`vfl.grpc.serde`, except the ``Request.receipt`` bytes,
which only ``GetRequest`` fills: :func:`receipt_to_wire` and
:func:`receipt_from_wire` map them, so the server and the client agree on one
encoding.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, Field

from vfl.receipts import ReceiptError, canonical_json, parse_receipt

__all__ = [
    "TERMINAL",
    "PartyStatus",
    "RequestRecord",
    "RequestStatus",
    "StatusReport",
    "receipt_from_wire",
    "receipt_to_wire",
]

RequestStatus = Literal["queued", "running", "committed", "aborted"]
TERMINAL: frozenset[str] = frozenset({"committed", "aborted"})


class RequestRecord(BaseModel):
    """One train or unlearn request and everything known about its outcome."""

    id: str
    kind: Literal["train", "unlearn"]
    status: RequestStatus = "queued"
    classes: list[int] = Field(default_factory=list)
    method: str = ""
    epochs: int = 0
    idempotency_key: str = ""
    error: str = ""
    created_at: float = Field(default_factory=time.time)
    started_at: float = 0.0
    finished_at: float = 0.0
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    digests_before: dict[str, str] = Field(default_factory=dict)
    digests_after: dict[str, str] = Field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL


class PartyStatus(BaseModel):
    party_id: str
    reachable: bool
    version: int = 0
    digest: str = ""
    error: str = ""


class StatusReport(BaseModel):
    dataset: str
    num_classes: int
    parties: list[PartyStatus]
    running: str = ""
    queued: int = 0


def receipt_to_wire(receipt: dict[str, Any] | None) -> bytes:
    """A signed receipt as ``Request.receipt``: its canonical JSON, or empty for none."""
    return b"" if receipt is None else canonical_json(receipt)


def receipt_from_wire(data: bytes) -> dict[str, Any] | None:
    """The receipt in ``Request.receipt`` (``None`` when empty); not verified here."""
    if not data:
        return None
    receipt = parse_receipt(data.decode("utf-8", "replace"), "the receipt the coordinator sent")
    if not isinstance(receipt, dict):
        raise ReceiptError("the coordinator sent a receipt that is not a JSON object")
    return receipt
