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
from vfl.errors import VFLError

__all__ = [
    "COLLAPSE_MARGIN",
    "COLLAPSE_MAX_DROP",
    "CollapseGuard",
    "Evaluation",
    "ModelCollapsedError",
    "accuracy",
    "entropy",
    "evaluate",
    "evaluate_samples",
    "mia_score",
    "per_class_accuracy",
]


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


def evaluate_samples(co: Coordinator, labels: LabelShard, forgotten: np.ndarray) -> Evaluation:
    """A sample request's metrics: ``forget_acc`` on the forgotten training samples,
    ``retain_acc`` on the other training samples, ``test_acc`` and per-class on the test
    split, ``mia`` the share of forgotten samples the entropy attack calls members.

    Retraining without the samples is the target, so read each against the retrained
    model's value: after retraining they are unseen samples (forget accuracy near test
    accuracy), not misclassified ones.
    """
    test_logits = co.logits(labels.test_ids)
    train_logits = co.logits(labels.train_ids)
    y_test, y_train = labels.labels_of(labels.test_ids), labels.labels_of(labels.train_ids)
    pred_test, pred_train = test_logits.argmax(1).numpy(), train_logits.argmax(1).numpy()
    gone = np.isin(labels.train_ids, forgotten)
    train_entropy = entropy(train_logits)
    return Evaluation(
        test_acc=accuracy(pred_test, y_test),
        retain_acc=accuracy(pred_train, y_train, ~gone),
        forget_acc=accuracy(pred_train, y_train, gone),
        mia=mia_score(train_entropy[~gone], entropy(test_logits), train_entropy[gone]),
        per_class=per_class_accuracy(pred_test, y_test, labels.num_classes),
    )


COLLAPSE_MAX_DROP = 0.20
"""A request whose retained classes lose more train-set accuracy than this is refused."""
COLLAPSE_MARGIN = 0.05
"""...as is one that brings them down to within this of chance (from above it)."""
GUARD_SAMPLES = 2048
"""Training samples the collapse guard scores: one embed round trip per party."""


class ModelCollapsedError(VFLError):
    """A request's work left a model that fails the collapse rule: it must not commit."""


class CollapseGuard:
    """Refuses to let a request commit a model that collapsed on the classes it keeps.

    It scores a seeded sample of the *training* samples of the retained classes
    before the work and after it (never the test set, which only reports), and
    :meth:`check` raises :class:`ModelCollapsedError` when accuracy dropped by
    more than :data:`COLLAPSE_MAX_DROP`, or fell from above chance +
    :data:`COLLAPSE_MARGIN` to at most that (chance: one over the number of
    retained classes). A model that was never better than chance (a fresh
    one) only has the first rule to pass.
    """

    def __init__(self, co: Coordinator, labels: LabelShard, retained_ids: np.ndarray, seed: int):
        self._co, self._labels = co, labels
        rng = np.random.default_rng(seed)
        size = min(len(retained_ids), GUARD_SAMPLES)
        self._ids = np.sort(rng.choice(retained_ids, size=size, replace=False))
        self.before = self._accuracy()

    def _accuracy(self) -> float:
        if not len(self._ids):
            return float("nan")
        return accuracy(self._co.predict(self._ids), self._labels.labels_of(self._ids))

    def check(self) -> dict[str, float]:
        """The accuracies before and after; raises if the rule says the model collapsed."""
        after = self._accuracy()
        scores = {"retained_train_acc_before": self.before, "retained_train_acc": after}
        if not len(self._ids):
            return scores
        chance = 1.0 / len(np.unique(self._labels.labels_of(self._ids)))
        floor = chance + COLLAPSE_MARGIN
        if after < self.before - COLLAPSE_MAX_DROP or self.before > floor >= after:
            raise ModelCollapsedError(
                f"the model collapsed: train-set accuracy on the retained classes fell from "
                f"{self.before:.1%} to {after:.1%} (refused: a drop of more than "
                f"{100 * COLLAPSE_MAX_DROP:.0f} points, or to within "
                f"{100 * COLLAPSE_MARGIN:.0f} points of chance, {chance:.0%}); nothing is "
                "committed. A passive party sending garbage embeddings?"
            )
        return scores
