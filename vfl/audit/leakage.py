"""Label leakage from training gradients (Li et al., ICLR 2022).

A passive party receives d(loss)/d(its embedding) for every sample of every
batch. With cross-entropy that gradient is ``W^T (p - y)``: its norm tends to
be larger for the rarer class, and its direction is shared by samples of the
same class. Two scores exploit that:

* ``norm``: the gradient norm itself. Which way it points (larger for the
  rare class early in training, often smaller once the model is confident on
  it) the attacker calibrates on its public labelled samples;
* ``direction``: cosine with the gradient of a sample whose label the attacker
  knows (one of its public labelled samples) in the same batch.

Each is scored by ROC-AUC against the true labels per batch, then averaged.
Binary tasks score the minority class (the "positive" of the paper);
multiclass tasks score every class one-vs-rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from scipy.stats import rankdata

from vfl.audit.base import Attack, AuditView, Finding, Stage
from vfl.audit.scores import auc, cosine_rows, mean_or_nan, row_norms
from vfl.protocol.client import RecordedCall

__all__ = ["DirectionAttack", "NormAttack", "gradient_batches", "norm_signs", "target_classes"]

METRIC = "AUC (mean per batch)"
BatchScore = Callable[
    [np.ndarray, np.ndarray, np.ndarray, AuditView, dict[int, float]], list[float]
]


def gradient_batches(calls: list[RecordedCall]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(ids, grads)`` of every backward call, in order."""
    for call in calls:
        if call.method == "backward":
            yield call.args["ids"], call.args["grad"].numpy()


def target_classes(view: AuditView) -> list[int]:
    """The minority class for binary tasks, every class otherwise."""
    if view.labels.num_classes != 2:
        return list(range(view.labels.num_classes))
    counts = np.bincount(view.labels.labels_of(view.labels.train_ids), minlength=2)
    return [int(np.argmin(counts))]


def norm_signs(view: AuditView, stage: Stage) -> dict[int, float]:
    """Per target class, +1 if the attacker's known samples of it have larger gradient
    norms than its other known samples (norms as within-batch percentiles), else -1."""
    pct, known_y = [], []
    for ids, grads in gradient_batches(view.calls.get(stage, [])):
        known = np.isin(ids, view.aux_ids)
        pct.append((rankdata(row_norms(grads)) / ids.size)[known])
        known_y.append(view.labels.labels_of(ids[known]))
    if not pct:
        return {}
    p, y = np.concatenate(pct), np.concatenate(known_y)
    return {c: 1.0 if not auc(p, y == c) < 0.5 else -1.0 for c in target_classes(view)}


def _norm_scores(
    ids: np.ndarray, grads: np.ndarray, y: np.ndarray, view: AuditView, signs: dict[int, float]
) -> list[float]:
    known = np.isin(ids, view.aux_ids)
    norms = row_norms(grads[~known])
    return [auc(signs[c] * norms, y[~known] == c) for c in target_classes(view)]


def _direction_scores(
    ids: np.ndarray, grads: np.ndarray, y: np.ndarray, view: AuditView, _signs: dict[int, float]
) -> list[float]:
    known = np.isin(ids, view.aux_ids)
    out = []
    for c in target_classes(view):
        refs = grads[known & (y == c)]
        if refs.size == 0:
            continue
        ref = (refs / np.maximum(row_norms(refs)[:, None], 1e-12)).mean(0)
        out.append(auc(cosine_rows(grads[~known], ref), y[~known] == c))
    return out


class _LeakageAttack(Attack):
    stages: tuple[Stage, ...] = ("trained",)
    score: BatchScore

    def run(self, view: AuditView, stage: Stage) -> list[Finding]:
        values: list[float] = []
        signs = norm_signs(view, stage)
        for ids, grads in gradient_batches(view.calls.get(stage, [])):
            values += type(self).score(ids, grads, view.labels.labels_of(ids), view, signs)
        detail = f"{len(values)} batch-class scores, classes {target_classes(view)}"
        if self.name == "norm":
            detail += f", signs from known samples {[int(v) for v in signs.values()]}"
        return [Finding(self.name, METRIC, mean_or_nan(values), detail, "toward 0.5")]


class NormAttack(_LeakageAttack):
    name = "norm"
    summary = "per-sample gradient norm vs label (Li et al. 2022)"
    score = _norm_scores


class DirectionAttack(_LeakageAttack):
    name = "direction"
    summary = "cosine with a known-label sample's gradient in the same batch (Li et al. 2022)"
    score = _direction_scores
