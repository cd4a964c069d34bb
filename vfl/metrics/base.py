"""Accuracy split by retained/forgotten classes, and the paper's entropy MIA.

Pure functions over logits and labels, plus :func:`evaluate`, which gathers
logits through a coordinator (so it works on every transport).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from vfl.coordinator import Coordinator
from vfl.data.base import LabelShard

__all__ = ["Evaluation", "accuracy", "entropy", "evaluate", "mia_score", "per_class_accuracy"]


@dataclass(frozen=True)
class Evaluation:
    """Fractions in [0, 1]. ``mia`` is the share of forget-train samples judged members."""

    test_acc: float
    retain_acc: float
    forget_acc: float
    mia: float
    per_class: list[float]

    def as_dict(self) -> dict[str, float | list[float]]:
        return asdict(self)


def accuracy(pred: np.ndarray, labels: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Share of correct predictions (over ``mask`` if given); NaN on an empty set."""
    if mask is not None:
        pred, labels = pred[mask], labels[mask]
    return float((pred == labels).mean()) if labels.size else float("nan")


def per_class_accuracy(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> list[float]:
    return [accuracy(pred, labels, labels == c) for c in range(num_classes)]


def entropy(logits: torch.Tensor) -> np.ndarray:
    """Softmax entropy per row: the MIA's only feature."""
    logp = torch.log_softmax(logits.double(), dim=1)
    return (-(logp.exp() * logp).sum(1)).numpy()


def mia_score(member: np.ndarray, non_member: np.ndarray, target: np.ndarray) -> float:
    """Fit member-vs-non-member on entropy (balanced LR); share of ``target`` called member.

    As in the paper: members are retained training samples, non-members the test
    set, targets the forgotten class's training samples. After good unlearning the
    targets look like non-members, as they would after retraining. NaN with no
    targets (nothing forgotten: there is no one to call a member).
    """
    if target.size == 0:
        return float("nan")
    x = np.concatenate([member, non_member])[:, None]
    y = np.concatenate([np.ones(member.size), np.zeros(non_member.size)])
    clf = LogisticRegression(class_weight="balanced").fit(x, y)
    return float(clf.predict(target[:, None]).mean())


def evaluate(co: Coordinator, labels: LabelShard, forgotten: list[int]) -> Evaluation:
    """Test accuracy (all, retained, forgotten), per-class accuracy and MIA."""
    test_logits = co.logits(labels.test_ids)
    train_logits = co.logits(labels.train_ids)
    y_test, y_train = labels.labels_of(labels.test_ids), labels.labels_of(labels.train_ids)
    pred = test_logits.argmax(1).numpy()
    forget_test = np.isin(y_test, forgotten)
    forget_train = np.isin(y_train, forgotten)
    train_entropy = entropy(train_logits)
    return Evaluation(
        test_acc=accuracy(pred, y_test),
        retain_acc=accuracy(pred, y_test, ~forget_test),
        forget_acc=accuracy(pred, y_test, forget_test),
        mia=mia_score(
            train_entropy[~forget_train], entropy(test_logits), train_entropy[forget_train]
        ),
        per_class=per_class_accuracy(pred, y_test, labels.num_classes),
    )
