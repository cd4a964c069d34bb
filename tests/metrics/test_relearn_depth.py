"""Relearn time and forgetting depth on a trained digits federation."""

from __future__ import annotations

import numpy as np

from tests.conftest import FAST_TRAIN
from vfl.metrics.depth import forgetting_depth, layer_features
from vfl.metrics.relearn import relearn_steps
from vfl.unlearning import UnlearnConfig, UnlearningContext, create_method

FORGET = 3


def _relearn(co, ids: np.ndarray, target: float, cap: int = 50):
    with co.trial("relearn") as trial:
        result = relearn_steps(co, ids, target, FAST_TRAIN.update, 32, cap, seed=0)
        trial.undo()
    return result


def test_an_already_accurate_model_relearns_in_zero_steps(trained) -> None:
    co, _ = trained
    ids = co.active.labels.train_ids_of([FORGET])
    acc = float((co.predict(ids) == FORGET).mean())
    assert acc > 0.9
    result = _relearn(co, ids, 0.9 * acc)
    assert result.steps == 0 and result.reached


def test_an_unreachable_target_stops_at_the_cap_and_says_so(trained) -> None:
    co, _ = trained
    ids = co.active.labels.train_ids_of([FORGET])
    result = _relearn(co, ids, 1.01, cap=3)
    assert result.steps == 3 and not result.reached


def test_an_unlearned_model_needs_steps_and_the_count_is_deterministic(trained) -> None:
    co, _ = trained
    ids = co.active.labels.train_ids_of([FORGET])
    with co.trial("unlearned") as trial:
        ctx = UnlearningContext(co, [FORGET], UnlearnConfig(), FAST_TRAIN, seed=0)
        create_method("gradient-ascent").run(ctx)
        co.flush()
        assert float((co.predict(ids) == FORGET).mean()) < 0.5
        first, second = _relearn(co, ids, 0.8), _relearn(co, ids, 0.8)
        trial.undo()
    assert first.reached and first.steps > 0
    assert first == second


def test_depth_probes_every_party_the_concatenation_and_the_top_hidden_layer(trained) -> None:
    co, _ = trained
    ids = co.active.labels.test_ids[:50]
    features = layer_features(co, ids)
    parties = [f"party {c.party_id}" for c in co.clients]
    assert list(features) == [*parties, "embeddings", "penultimate"]
    assert features["embeddings"].shape[1] == sum(features[p].shape[1] for p in parties)
    depth = forgetting_depth(co, co.active.labels, [FORGET])
    assert all(auc > 0.9 for auc in depth.values()), depth  # the original model knows class 3
