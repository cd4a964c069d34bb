"""Pure math shared by the attacks: rank AUC, row norms and cosines.

No state and no I/O, so each function is tested on hand-made numbers.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = ["auc", "best_oriented_auc", "cosine_rows", "mean_or_nan", "row_norms"]


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC-AUC of ``scores`` for the boolean ``positive`` (Mann-Whitney, ties count half).

    NaN when either side is empty: a batch without a positive says nothing.
    """
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def best_oriented_auc(scores: np.ndarray, positive: np.ndarray) -> tuple[float, int]:
    """``max(auc, 1 - auc)`` and the sign (+1/-1) that achieves it.

    An attacker who knows which way a statistic points; used to report the
    strongest version of an attack rather than a lucky or unlucky guess of sign.
    """
    value = auc(scores, positive)
    if value != value:  # NaN
        return value, 1
    return (value, 1) if value >= 0.5 else (1.0 - value, -1)


def row_norms(x: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row of a 2-D array."""
    return np.linalg.norm(np.asarray(x, dtype=np.float64), axis=1)


def cosine_rows(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row of ``x`` with the vector ``ref`` (0 for zero rows)."""
    x = np.asarray(x, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    denom = row_norms(x) * float(np.linalg.norm(ref))
    dots = x @ ref
    return np.divide(dots, denom, out=np.zeros_like(dots), where=denom > 0)


def mean_or_nan(values: list[float]) -> float:
    """Mean of the finite values; NaN if there are none."""
    finite = [v for v in values if v == v]
    return float(np.mean(finite)) if finite else float("nan")
