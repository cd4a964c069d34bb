"""The pure math under every attack: rank AUC, orientation, cosines."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vfl.audit.disclosure import guess_probabilities, loo_cosine
from vfl.audit.scores import auc, best_oriented_auc, cosine_rows, mean_or_nan, row_norms


def test_auc_matches_pair_counting() -> None:
    scores = np.array([0.1, 0.4, 0.35, 0.8, 0.4])
    positive = np.array([False, False, True, True, True])
    pairs = [
        (1.0 if p > n else 0.5 if p == n else 0.0)
        for p in scores[positive]
        for n in scores[~positive]
    ]
    assert auc(scores, positive) == pytest.approx(np.mean(pairs))


def test_auc_extremes_and_empty_side() -> None:
    positive = np.array([True, True, False, False])
    assert auc(np.array([3, 4, 1, 2]), positive) == 1.0
    assert auc(np.array([1, 2, 3, 4]), positive) == 0.0
    assert auc(np.ones(4), positive) == 0.5
    assert math.isnan(auc(np.arange(3), np.zeros(3, dtype=bool)))


def test_best_oriented_auc_flips_a_reversed_score() -> None:
    value, sign = best_oriented_auc(np.array([1, 2, 3, 4]), np.array([1, 1, 0, 0], dtype=bool))
    assert (value, sign) == (1.0, -1)


def test_cosine_rows_handles_zero_rows() -> None:
    x = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0], [-3.0, 0.0]])
    assert cosine_rows(x, np.array([2.0, 0.0])).tolist() == [1.0, 0.0, 0.0, -1.0]
    assert row_norms(x).tolist() == [1.0, 2.0, 0.0, 3.0]


def test_mean_or_nan_skips_nan() -> None:
    assert mean_or_nan([1.0, float("nan"), 3.0]) == 2.0
    assert math.isnan(mean_or_nan([float("nan")]))


def test_forgotten_class_guess_scores_ties_as_a_random_pick() -> None:
    assert guess_probabilities({0: 0.9, 1: 0.5, 2: 0.5}, k=1) == {0: 1.0, 1: 0.0, 2: 0.0}
    assert guess_probabilities({0: 0.5, 1: 0.5, 2: 0.5, 3: 0.5}, k=1)[2] == 0.25
    assert guess_probabilities({0: 0.9, 1: 0.5, 2: 0.5}, k=2) == {0: 1.0, 1: 0.5, 2: 0.5}


def test_leave_one_out_cosine_is_constant_on_a_zero_sum_batch() -> None:
    g = np.array([[1.0, 2.0], [-1.0, -2.0], [3.0, 0.0], [-3.0, 0.0]])
    assert np.allclose(loo_cosine(g), -1.0)
    assert np.allclose(loo_cosine(np.array([[1.0, 0.0], [1.0, 0.0]])), 1.0)
