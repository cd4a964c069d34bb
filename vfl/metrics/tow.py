"""ToW ("tug-of-war") and ToW-MIA: one number for how close a model is to retraining.

Source: Zhao, Kurmanji, Barbulescu, Triantafillou, Triantafillou, "What makes
unlearning hard and what to do about it" (NeurIPS 2024, arXiv 2406.01257):

    ToW = (1 - |acc_f(u) - acc_f(r)|) * (1 - |acc_r(u) - acc_r(r)|) * (1 - |acc_t(u) - acc_t(r)|)

over the forget set ``f``, the retain set ``r`` and the test set ``t``, for the
unlearned model ``u`` against the model retrained without the forget set. It is
1 exactly when the three accuracies equal retraining's and falls as any of them
moves away *in either direction* (forgetting too much counts, like too little).
ToW-MIA replaces the forget-accuracy term by the gap in the MIA score.

For class-level unlearning here the forget set is the forgotten classes'
*training* samples, the retain set the retained classes' training samples and
the test set the whole test split (all fractions in [0, 1]).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from vfl.coordinator import Coordinator
from vfl.data.base import LabelShard
from vfl.metrics.base import accuracy

__all__ = ["SplitAccuracy", "split_accuracy", "tow", "tow_mia"]


@dataclass(frozen=True)
class SplitAccuracy:
    """A model's accuracy on the three sets ToW compares, and its MIA score."""

    forget: float
    retain: float
    test: float
    mia: float = float("nan")

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _closeness(a: float, b: float) -> float:
    return 1.0 - abs(a - b)


def tow(unlearned: SplitAccuracy, retrained: SplitAccuracy) -> float:
    """Zhao et al.'s ToW of ``unlearned`` against ``retrained`` (1 = identical)."""
    return (
        _closeness(unlearned.forget, retrained.forget)
        * _closeness(unlearned.retain, retrained.retain)
        * _closeness(unlearned.test, retrained.test)
    )


def tow_mia(unlearned: SplitAccuracy, retrained: SplitAccuracy) -> float:
    """ToW with the forget-accuracy term replaced by the MIA-score term."""
    return (
        _closeness(unlearned.mia, retrained.mia)
        * _closeness(unlearned.retain, retrained.retain)
        * _closeness(unlearned.test, retrained.test)
    )


def split_accuracy(
    co: Coordinator, labels: LabelShard, forgotten: list[int], mia: float
) -> SplitAccuracy:
    """Forget-train, retain-train and test accuracy of the federation as it is now."""
    train_pred = _predict(co, labels.train_ids)
    y_train = labels.labels_of(labels.train_ids)
    forget = np.isin(y_train, forgotten)
    return SplitAccuracy(
        forget=accuracy(train_pred, y_train, forget),
        retain=accuracy(train_pred, y_train, ~forget),
        test=accuracy(_predict(co, labels.test_ids), labels.labels_of(labels.test_ids)),
        mia=mia,
    )


def _predict(co: Coordinator, ids: np.ndarray) -> np.ndarray:
    logits: torch.Tensor = co.logits(ids)
    return logits.argmax(1).numpy()
