"""Sample-level label unlearning: forget some samples as if never trained on them."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fixtures.cli import run_vfl
from tests.fixtures.federation import FAST_TRAIN
from vfl.errors import ConfigError
from vfl.metrics import evaluate_samples
from vfl.unlearning import UnlearnConfig, UnlearningContext, create_method
from vfl.unlearning.base import check_scope, validate_samples
from vfl.unlearning.run import unlearn_and_evaluate
from vfl.unlearning.samples import non_member_targets, per_sample_ce


def test_targets_give_the_forget_set_the_non_member_loss_distribution() -> None:
    reference = np.array([0.0, 0.1, 0.2, 0.3, 2.0, 5.0])
    forget = np.array([0.3, 0.01, 0.02])  # ranks 2, 0, 1
    targets = non_member_targets(reference, forget)
    assert targets.tolist() == pytest.approx(np.quantile(reference, [5 / 6, 1 / 6, 3 / 6]))
    # the hardest sample now gets the highest target; order is kept
    assert np.argsort(targets).tolist() == np.argsort(forget).tolist()


def test_luv_samples_lifts_the_forget_losses_to_the_non_member_level(trained) -> None:
    co, clients = trained
    labels = co.active.labels
    forget = labels.train_ids[::100]  # 14 samples
    y = labels.labels_of(forget)
    before_ce = per_sample_ce(co, forget, y)
    before = evaluate_samples(co, labels, forget)
    result = unlearn_and_evaluate(
        co, "luv-samples", [], UnlearnConfig(), FAST_TRAIN, 0, samples=forget
    )
    after_ce = per_sample_ce(co, forget, y)
    assert result["target_reached"] and after_ce.mean() > before_ce.mean()
    assert before.test_acc - result["test_acc"] <= 0.01  # the rest keeps its fit
    assert result["retain_acc"] >= before.retain_acc - 0.01
    # passive parties saw sample IDs and gradients only; every step is on training samples
    stepped = trained_ids(clients)
    assert stepped and stepped <= set(labels.train_ids.tolist())


def trained_ids(clients) -> set[int]:
    """The IDs of every training-mode embed the passive parties were asked for."""
    return {
        int(i)
        for c in clients
        for call in c.calls
        if call.args.get("train")
        for i in call.args.get("next_ids", call.args.get("ids", []))
    }


def test_retraining_without_the_samples_never_trains_on_them(trained) -> None:
    co, clients = trained
    forget = co.active.labels.train_ids[:7]
    unlearn_and_evaluate(
        co, "retrain", [], UnlearnConfig(), FAST_TRAIN.model_copy(update={"epochs": 1}), 0,
        samples=forget,
    )  # fmt: skip
    trained_on = trained_ids(clients)
    assert trained_on and not trained_on & set(forget.tolist())


def test_bad_sample_requests_are_one_clear_error(trained) -> None:
    co, _ = trained
    labels = co.active.labels
    with pytest.raises(ConfigError, match="at least one sample"):
        validate_samples(np.array([], dtype=np.int64), labels)
    with pytest.raises(ConfigError, match="named twice"):
        validate_samples(labels.train_ids[[1, 1]], labels)
    with pytest.raises(ConfigError, match="1 of 2 samples are not training samples"):
        validate_samples(np.array([labels.train_ids[0], labels.test_ids[0]]), labels)
    with pytest.raises(ConfigError, match="forgets classes, not samples; for samples use"):
        check_scope(create_method("luv"), "samples")
    with pytest.raises(ConfigError, match="forgets samples, not classes"):
        check_scope(create_method("luv-samples"), "classes")
    ctx = UnlearningContext(co, [], UnlearnConfig(), FAST_TRAIN, 0, samples=labels.train_ids[:3])
    assert ctx.retained_train_ids().size == labels.train_ids.size - 3


def test_simulate_forgets_random_samples_and_reports_them(tmp_path) -> None:
    out = tmp_path / "r.json"
    result = run_vfl(
        "simulate", "--forget-random", "13", "--epochs", "2", "--no-compare-retrain",
        "--quiet", "--json", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    import json

    report = json.loads(out.read_text())
    assert report["scope"] == "samples" and report["samples_forgotten"] == 13
    assert report["method"] == "luv-samples" and report["classes_forgotten"] == []
    bad = run_vfl("simulate", "--forget-random", "3", "--unlearn-class", "2", "--quiet")
    assert bad.exit_code == 2 and "drop --unlearn-class" in bad.stderr


def test_training_after_requests_leaves_out_forgotten_classes_and_samples(trained) -> None:
    from parties.active_server import training_ids

    co, _ = trained
    labels = co.active.labels
    gone = labels.train_ids[:5]
    ids = training_ids(labels, [3], gone)
    assert not np.isin(ids, gone).any() and not (labels.labels_of(ids) == 3).any()
    kept = ~np.isin(labels.train_ids, gone) & (labels.labels_of(labels.train_ids) != 3)
    assert ids.tolist() == labels.train_ids[kept].tolist()
