"""Operator-API messages (requests, status, progress, metrics) to records and back.

Apart from :mod:`vfl.grpc.serde` (the passive-party API's tensors) because
these codecs need no torch: ``vfl status`` and the other operator commands
import only this, so they start in a fraction of a second.
"""

from __future__ import annotations

import json
from typing import Any

from vfl.grpc.proto import coordinator_pb2 as cpb
from vfl.progress import ProgressEvent
from vfl.txn.receipts import ReceiptError, canonical_json, parse_receipt
from vfl.txn.records import PartyStatus, RequestRecord, StatusReport

__all__ = [
    "metrics_from_proto",
    "metrics_to_proto",
    "options_from_wire",
    "options_to_wire",
    "progress_from_proto",
    "progress_to_proto",
    "receipt_from_wire",
    "receipt_to_wire",
    "request_from_proto",
    "request_to_proto",
    "status_from_proto",
    "status_to_proto",
]

_METRIC_FIELDS = ("test_acc", "retain_acc", "forget_acc", "mia", "seconds")
_TARGET_FIELDS = ("target_reached", "shortfall")  # unlearning only: sent when present


def metrics_to_proto(metrics: dict[str, Any] | None) -> cpb.Metrics | None:
    """An evaluation dict (see :class:`vfl.metrics.Evaluation`) as a message."""
    if not metrics:
        return None
    target = {}
    if "target_reached" in metrics:
        target = {"target_reached": bool(metrics["target_reached"])}
        target["shortfall"] = float(metrics.get("shortfall", 0.0))
    return cpb.Metrics(
        **{k: float(metrics[k]) for k in _METRIC_FIELDS if k in metrics},
        **target,
        per_class=[float(v) for v in metrics.get("per_class", [])],
    )


def metrics_from_proto(msg: cpb.Metrics) -> dict[str, Any]:
    out: dict[str, Any] = {k: getattr(msg, k) for k in _METRIC_FIELDS}
    out["per_class"] = list(msg.per_class)
    if msg.HasField("target_reached"):
        out.update({k: getattr(msg, k) for k in _TARGET_FIELDS})
    return out


def progress_to_proto(event: ProgressEvent) -> cpb.Progress:
    return cpb.Progress(
        phase=event.phase, step=event.step, total=event.total, metrics=event.metrics
    )


def progress_from_proto(msg: cpb.Progress) -> ProgressEvent:
    return ProgressEvent(msg.phase, msg.step, msg.total, dict(msg.metrics))


_REQUEST_SCALARS = (
    "id", "kind", "status", "method", "epochs", "idempotency_key", "error",
    "created_at", "started_at", "finished_at",
)  # fmt: skip


def request_to_proto(record: RequestRecord, with_samples: bool = True) -> cpb.Request:
    """``with_samples=False`` (ListRequests pages) sends the count, not the sample IDs."""
    return cpb.Request(
        **{k: getattr(record, k) for k in _REQUEST_SCALARS},
        classes=record.classes,
        samples=record.samples if with_samples else [],
        sample_count=len(record.samples),
        method_options=options_to_wire(record.method_options),
        unlearn_config=options_to_wire(record.unlearn_config),
        before=metrics_to_proto(record.before),
        after=metrics_to_proto(record.after),
        digests_before=record.digests_before,
        digests_after=record.digests_after,
    )


def request_from_proto(msg: cpb.Request) -> RequestRecord:
    return RequestRecord(
        **{k: getattr(msg, k) for k in _REQUEST_SCALARS},
        classes=list(msg.classes),
        samples=list(msg.samples),
        method_options=options_from_wire(msg.method_options),
        unlearn_config=options_from_wire(msg.unlearn_config),
        before=metrics_from_proto(msg.before) if msg.HasField("before") else {},
        after=metrics_from_proto(msg.after) if msg.HasField("after") else {},
        digests_before=dict(msg.digests_before),
        digests_after=dict(msg.digests_after),
    )


def options_to_wire(options: dict[str, Any]) -> str:
    """Method options or unlearn settings as the wire's JSON text (``""`` for none)."""
    return canonical_json(options).decode() if options else ""


def options_from_wire(text: str) -> dict[str, Any]:
    """The options or settings a coordinator sent back (it checked them at submission)."""
    return json.loads(text) if text else {}


_STATUS_SCALARS = (
    "dataset", "num_classes", "running", "queued", "aligned", "train_samples", "test_samples",
    "score_samples", "forgotten_samples",
)  # fmt: skip


def status_to_proto(report: StatusReport) -> cpb.StatusResponse:
    return cpb.StatusResponse(
        **{k: getattr(report, k) for k in _STATUS_SCALARS},
        parties=[cpb.PartyStatus(**p.model_dump()) for p in report.parties],
        class_names=report.class_names,
        forgotten=report.forgotten,
    )


def status_from_proto(msg: cpb.StatusResponse) -> StatusReport:
    parties = [
        PartyStatus(
            party_id=p.party_id,
            reachable=p.reachable,
            version=p.version,
            digest=p.digest,
            error=p.error,
            in_doubt=p.in_doubt,
        )
        for p in msg.parties
    ]
    return StatusReport(
        **{k: getattr(msg, k) for k in _STATUS_SCALARS},
        parties=parties,
        class_names=list(msg.class_names),
        forgotten=list(msg.forgotten),
    )


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
