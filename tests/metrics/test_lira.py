"""The LiRA test of U-LiRA on cases whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vfl.metrics.lira import (
    attack_result,
    balanced_masks,
    lira_scores,
    logit_confidence,
    tpr_at_fpr,
)

SHADOWS, SAMPLES = 16, 400


def test_logit_confidence_is_log_odds_of_the_true_class_and_stays_finite() -> None:
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1000.0, 0.0]])
    p = torch.softmax(logits[0].double(), 0)[0].item()
    conf = logit_confidence(logits, np.array([0, 0]))
    assert conf[0] == pytest.approx(np.log(p / (1 - p)))
    assert np.isfinite(conf[1]) and conf[1] == pytest.approx(-1000.0)


def test_masks_put_every_sample_in_exactly_half_the_shadows() -> None:
    masks = balanced_masks(SHADOWS, SAMPLES, seed=3)
    assert (masks.sum(0) == SHADOWS // 2).all()
    assert not (masks == masks[0]).all()  # not the same split for every shadow
    with pytest.raises(ValueError, match="even"):
        balanced_masks(3, 10, seed=0)


def _game(shift: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Shadows whose 'in' confidence is ``shift`` above 'out', and a target that
    trained on the first half of the samples: LiRA scores and membership."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 3, SAMPLES)  # per-example difficulty, as in real data
    masks = balanced_masks(SHADOWS, SAMPLES, seed)
    shadow = base + shift * masks + rng.normal(0, 1, (SHADOWS, SAMPLES))
    member = np.arange(SAMPLES) < SAMPLES // 2
    target = base + shift * member + rng.normal(0, 1, SAMPLES)
    return lira_scores(shadow, masks, target), member


def test_separated_in_and_out_gaussians_give_auc_near_one() -> None:
    scores, member = _game(shift=8.0)
    result = attack_result(scores, member)
    assert result.auc > 0.99 and result.tpr_at_1fpr > 0.9


def test_identical_in_and_out_distributions_give_auc_near_half() -> None:
    scores, member = _game(shift=0.0)
    assert attack_result(scores, member).auc == pytest.approx(0.5, abs=0.06)


def test_per_example_means_beat_a_global_threshold() -> None:
    """The point of a per-example test: a small shift hidden under large
    per-example spread is found by LiRA but not by the raw confidence."""
    scores, member = _game(shift=1.5)
    rng = np.random.default_rng(0)
    base = rng.normal(0, 3, SAMPLES)
    raw = base + 1.5 * member + np.random.default_rng(1).normal(0, 1, SAMPLES)
    assert attack_result(scores, member).auc > attack_result(raw, member).auc + 0.1


def _offset_game(centre: bool, target_offset: float) -> float:
    """AUC when every model (each shadow, the target) adds its own model-wide offset."""
    rng = np.random.default_rng(3)
    base = rng.normal(0, 3, SAMPLES)
    masks = balanced_masks(SHADOWS, SAMPLES, 3)
    offsets = rng.normal(0, 6, (SHADOWS, 1))  # e.g. how far a forgotten class was pushed down
    shadow = base + 2.0 * masks + offsets + rng.normal(0, 1, (SHADOWS, SAMPLES))
    member = np.arange(SAMPLES) < SAMPLES // 2
    target = base + 2.0 * member + target_offset + rng.normal(0, 1, SAMPLES)
    return attack_result(lira_scores(shadow, masks, target, centre=centre), member).auc


def test_centring_removes_each_models_offset() -> None:
    """A model-wide offset says nothing about one sample: centred, the test finds the
    members whatever the target's offset; raw, the offset decides."""
    centred = [_offset_game(True, offset) for offset in (-15.0, 0.0, 15.0)]
    raw = [_offset_game(False, offset) for offset in (-15.0, 0.0, 15.0)]
    assert min(centred) > 0.8
    assert max(centred) - min(centred) < 0.05  # a constant added to the target changes nothing
    assert min(raw) < min(centred) - 0.2


def test_tpr_at_fpr_and_empty_sides() -> None:
    member = np.array([True, True, False, False])
    assert tpr_at_fpr(np.array([4.0, 3.0, 2.0, 1.0]), member, 0.01) == 1.0
    assert tpr_at_fpr(np.array([1.0, 2.0, 3.0, 4.0]), member, 0.01) == 0.0
    assert np.isnan(attack_result(np.array([1.0]), np.array([True])).auc)
