"""The collapse rule that keeps a request from committing a broken model (issue 14 #7), in
one process: it scores training samples of the retained classes before and after."""

from __future__ import annotations

import pytest

from vfl.metrics import CollapseGuard, ModelCollapsedError


def test_a_model_knocked_back_to_chance_is_refused_and_an_unchanged_one_passes(trained) -> None:
    co, _ = trained
    labels = co.active.labels
    guard = CollapseGuard(co, labels, labels.train_ids, seed=0)
    assert guard.before > 0.5  # the trained digits model: well above chance (10 %)
    assert guard.check()["retained_train_acc"] == guard.before
    co.reinitialize(seed=1)  # what garbage embeddings do to a trained model, in effect
    with pytest.raises(ModelCollapsedError, match="the model collapsed"):
        guard.check()


def test_a_fresh_model_at_chance_may_stay_there(trained) -> None:
    """Only a fall is refused: a model that was never above chance has nothing to lose."""
    co, _ = trained
    co.reinitialize(seed=1)
    labels = co.active.labels
    guard = CollapseGuard(co, labels, labels.train_ids[labels.labels_of(labels.train_ids) < 5], 0)
    scores = guard.check()
    assert scores["retained_train_acc"] == scores["retained_train_acc_before"] < 0.5
