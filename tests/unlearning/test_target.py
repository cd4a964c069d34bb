"""A request that ends short of its target says so, and by how much.

The target is the request's own (``UnlearnConfig.forget_target``), judged on the
forget-class training samples the method may see -- never on test data.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.fixtures.cli import run_vfl
from tests.fixtures.federation import FAST_TRAIN
from vfl.grpc.serde_operator import metrics_from_proto, metrics_to_proto
from vfl.unlearning import UnlearnConfig, UnlearningContext
from vfl.unlearning.fewshot import FewShotSets
from vfl.unlearning.run import unlearn_and_evaluate


def gauge_of(co, ctx: UnlearningContext) -> float:
    """Forgotten-class accuracy on the few-shot forget and forget-check samples, recomputed."""
    sets = FewShotSets.draw(ctx, use_recovery=True)
    ids = np.concatenate([sets.forget_ids, sets.forget_check_ids])
    return float((co.predict(ids) == co.active.labels.labels_of(ids)).mean())


def test_a_request_that_reaches_its_target_says_so(trained) -> None:
    co, _ = trained
    cfg = UnlearnConfig()
    result = unlearn_and_evaluate(co, "luv", [3], cfg, FAST_TRAIN, 0)
    assert result["target_reached"] is True
    assert result["shortfall"] == 0.0
    assert result["forget_gauge"] == gauge_of(co, UnlearningContext(co, [3], cfg, FAST_TRAIN, 0))
    assert result["forget_gauge"] <= cfg.forget_target


def test_a_request_that_cannot_reach_its_target_says_how_far_short(trained) -> None:
    co, _ = trained
    # One epoch at a step a million times too small cannot move a trained model's
    # predictions on the class: the gauge stays where it was, far above 0.
    cfg = UnlearnConfig(epochs=1, lr=1e-8)
    ctx = UnlearningContext(co, [3], cfg, FAST_TRAIN, 0)
    before = gauge_of(co, ctx)
    result = unlearn_and_evaluate(co, "luv", [3], cfg, FAST_TRAIN, 0)
    assert before > 0.9
    assert result["target_reached"] is False
    assert result["forget_gauge"] == gauge_of(co, ctx) == before
    assert result["shortfall"] == pytest.approx(before - cfg.forget_target)
    # A looser target that the same gauge meets is reached: the flag follows the target.
    loose = UnlearnConfig(epochs=1, lr=1e-8, forget_target=1.0)
    assert unlearn_and_evaluate(co, "luv", [3], loose, FAST_TRAIN, 0)["target_reached"] is True


def test_epochs_the_guard_undoes_do_not_count_toward_the_target(trained) -> None:
    co, _ = trained
    # A huge step with no tolerated damage: the guard undoes every epoch, so the
    # models end as they began and the gauge is the original one, not the gauge of
    # an undone step (which may well have been 0).
    cfg = UnlearnConfig(epochs=3, lr=5.0, max_check_rise=0.0)
    ctx = UnlearningContext(co, [3], cfg, FAST_TRAIN, 0)
    before, digests = gauge_of(co, ctx), co.digests()
    result = unlearn_and_evaluate(co, "luv", [3], cfg, FAST_TRAIN, 0)
    assert co.digests() == digests
    assert result["target_reached"] is False
    assert result["forget_gauge"] == before > 0.9


def test_a_method_without_its_own_gauge_is_checked_on_the_few_shot_forget_set(trained) -> None:
    co, _ = trained
    # Fine-tuning on the retained data has no stopping rule of its own (run returns None).
    result = unlearn_and_evaluate(co, "finetune", [3], UnlearnConfig(), FAST_TRAIN, 0)
    ctx = UnlearningContext(co, [3], UnlearnConfig(), FAST_TRAIN, 0)
    ids = ctx.forget_set()
    expected = float((co.predict(ids) == co.active.labels.labels_of(ids)).mean())
    assert result["forget_gauge"] == expected
    assert result["target_reached"] is (expected == 0.0)
    assert result["shortfall"] == pytest.approx(expected)


@pytest.mark.parametrize("reached", [True, False])
def test_the_target_crosses_the_operator_wire(reached: bool) -> None:
    sent = {"forget_acc": 0.25, "target_reached": reached, "shortfall": 0.0 if reached else 0.2}
    got = metrics_from_proto(metrics_to_proto(sent))
    assert got["target_reached"] is reached
    assert got["shortfall"] == pytest.approx(sent["shortfall"])
    # Metrics without a target (a training request) arrive without one.
    assert "target_reached" not in metrics_from_proto(metrics_to_proto({"test_acc": 0.9}))


def test_simulate_prints_a_missed_target_and_the_report_carries_it(tmp_path) -> None:
    report = tmp_path / "r.json"
    result = run_vfl(
        "simulate", "--quiet", "--no-compare-retrain", "--epochs", "2",
        "--unlearn-epochs", "1", "--unlearn-lr", "1e-8", "--json", str(report),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "target missed" in result.stdout
    unlearned = json.loads(report.read_text())["unlearned"]
    assert unlearned["target_reached"] is False and unlearned["shortfall"] > 0.5


def _repairs(co, cfg: UnlearnConfig) -> list[int]:
    """Recovery steps per epoch of a LUV request with ``cfg`` (from its progress events)."""
    events = []
    unlearn_and_evaluate(co, "luv", [3], cfg, FAST_TRAIN, 0, events.append)
    return [int(e.metrics["repairs"]) for e in events if e.metrics]


def test_recovery_steps_run_only_when_the_check_set_says_retained_classes_were_hurt(
    trained,
) -> None:
    co, _ = trained
    with co.trial("never") as trial:  # a tolerance no step reaches: no recovery at all
        assert set(_repairs(co, UnlearnConfig(max_check_rise=1e6))) == {0}
        trial.undo()
    with co.trial("none-allowed") as trial:
        assert set(_repairs(co, UnlearnConfig(max_check_rise=0.0, repair_steps=0))) == {0}
        trial.undo()
    # A step 100x the default with no tolerance hurts the retained classes every epoch:
    # each epoch repairs, up to the cap.
    cfg = UnlearnConfig(lr=0.5, max_check_rise=0.0, repair_steps=2, epochs=3)
    repairs = _repairs(co, cfg)
    assert repairs and all(1 <= r <= 2 for r in repairs)
