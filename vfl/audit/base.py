"""What an audit observes, what an attack reports, and the registry of attacks.

An audit runs a federation through stages -- ``trained``, ``unlearned`` and
``retrained`` -- and after each stage hands every attack an :class:`AuditView`.
The passive-party attacks read only the attacker's :class:`RecordedCall` list
(what crossed its API), its own feature columns and its own bottom model; the
ground truth in the view (labels, the forget set) is used only to *score* them.
The registry of attacks is :data:`vfl.audit.registry.ATTACKS` (no torch).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np
import torch
from pydantic import BaseModel

from vfl.coordinator import Coordinator
from vfl.data.base import LabelShard
from vfl.protocol.client import RecordedCall, RecordingClient

__all__ = [
    "Attack",
    "AuditView",
    "Better",
    "Finding",
    "Stage",
]

Stage = Literal["trained", "unlearned", "retrained"]
Better = Literal["lower", "higher", "toward 0.5", ""]
"""Which way a number is better for the defender (the audit table's "better" column);
empty for a reference value, such as a chance level."""


@dataclass(frozen=True)
class Finding:
    """One number an attack measured; ``detail`` says how (e.g. which statistic won)."""

    name: str
    metric: str
    value: float
    detail: str = ""
    better: Better = ""


@dataclass
class AuditView:
    """Everything collected so far in one arm of an audit."""

    coordinator: Coordinator
    attacker: RecordingClient
    attacker_features: np.ndarray  # the attacker's own columns, row = global sample ID
    labels: LabelShard  # ground truth, for scoring only
    classes: list[int]
    aux_ids: np.ndarray  # a few public labelled training samples the attacker knows
    calls: dict[str, list[RecordedCall]] = field(default_factory=dict)  # by stage

    def is_forget(self, ids: np.ndarray) -> np.ndarray:
        """Ground truth: which of ``ids`` are training samples of a forgotten class.

        Among the IDs a request touched these are its forget set (including any
        held-out forget-class checks a method predicts), whatever rule the
        method used to draw them.
        """
        train = np.isin(ids, self.labels.train_ids)
        return train & np.isin(self.labels.labels_of(ids), self.classes)

    def embed_own(self, ids: np.ndarray) -> np.ndarray:
        """The attacker's bottom-model outputs, computed by itself (not recorded)."""
        out: torch.Tensor = self.attacker.inner.embed(ids, train=False)
        return out.numpy()


class Attack(ABC):
    """One attack; runs after the stages it lists and returns findings.

    An attack with settings declares them as ``options_model`` (a pydantic
    model) and takes an instance of it in its constructor (``ATTACKS.create``).
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    stages: ClassVar[tuple[Stage, ...]]
    options_model: ClassVar[type[BaseModel] | None] = None

    @abstractmethod
    def run(self, view: AuditView, stage: Stage) -> list[Finding]: ...
