"""What a request is and what the operators are told: typed records, no transport types.

The active party keeps :class:`RequestRecord`\\ s in a journal and answers
status queries with a :class:`StatusReport`; the gRPC operator API
(:mod:`vfl.grpc.serde_operator`) converts both to and from protobuf. A
:data:`Decision` is two-phase commit's point of no return: once it is
journaled, the request only goes forward.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "REQUEST_UNLEARN_SETTINGS",
    "TERMINAL",
    "Decision",
    "PartyStatus",
    "RequestRecord",
    "RequestStatus",
    "StatusReport",
]

RequestStatus = Literal["queued", "running", "committed", "aborted"]
TERMINAL: frozenset[str] = frozenset({"committed", "aborted"})

REQUEST_UNLEARN_SETTINGS = {
    "forget_samples": "--forget-samples",
    "recovery_per_class": "--recovery-samples",
    "epochs": "--unlearn-epochs",
    "lr": "--unlearn-lr",
}
"""The :class:`~vfl.unlearning.UnlearnConfig` fields one request may override
(:attr:`RequestRecord.unlearn_config`: ``vfl simulate``'s unlearning settings), with the
``vfl unlearn`` flag of each. Here, not in :mod:`vfl.txn.limits`, so the operator CLI
reads it without importing torch. The other fields stay the server's: they are LUV's
tuned internals, and some (``repair_steps``) have no bound a shared coordinator could
trust."""

Decision = dict[str, tuple[int, str]]
"""``{party: (version, digest)}`` every party commits to once the decision is journaled."""


class RequestRecord(BaseModel):
    """One train or unlearn request and everything known about its outcome."""

    id: str
    kind: Literal["train", "unlearn"]
    status: RequestStatus = "queued"
    classes: list[int] = Field(default_factory=list)
    """``unlearn``: the classes it forgets. ``train``: forgotten classes it learns again
    (``vfl train --relearn``); every other forgotten class stays out of training."""
    samples: list[str] = Field(default_factory=list)
    """Sample-level ``unlearn``: the sample IDs whose labels it forgets (sorted); they
    never train again."""
    method: str = ""
    method_options: dict[str, Any] = Field(default_factory=dict)
    """``unlearn``: the method's own settings (its ``options_model``), as checked at
    submission (``vfl unlearn --method-option``); empty: the method's defaults."""
    unlearn_config: dict[str, Any] = Field(default_factory=dict)
    """``unlearn``: the general settings (:class:`~vfl.unlearning.UnlearnConfig` fields) it
    overrides, only those given and as checked at submission (``vfl unlearn
    --unlearn-epochs`` ...); empty: the server's settings. Applied to the server's
    settings when the request runs."""
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
    in_doubt: bool = False
    """An abort did not reach it: its weights may not be ``version``'s (``error`` says why)."""


class StatusReport(BaseModel):
    dataset: str
    num_classes: int
    parties: list[PartyStatus]
    running: str = ""
    queued: int = 0
    class_names: list[str] = Field(default_factory=list)
    forgotten: list[int] = Field(default_factory=list)
    """Classes committed unlearning removed; training leaves them out."""
    aligned: bool = True
    train_samples: int = 0
    test_samples: int = 0
    score_samples: int = 0
    forgotten_samples: int = 0
