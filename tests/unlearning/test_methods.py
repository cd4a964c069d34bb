"""Every registered method runs through the party API; LUV forgets and keeps the rest."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fixtures.federation import FAST_TRAIN
from vfl.errors import ConfigError
from vfl.metrics import evaluate
from vfl.unlearning import (
    UnlearnConfig,
    UnlearningContext,
    create_method,
    get_method,
    method_names,
    validate_classes,
)


@pytest.mark.parametrize("method", method_names())
def test_each_method_runs_and_changes_the_models(trained, method) -> None:
    co, _ = trained
    before = co.digests()
    unlearner = create_method(method)
    samples = co.active.labels.train_ids[::50] if "classes" not in unlearner.scopes else None
    ctx = UnlearningContext(
        co, [] if samples is not None else [3], UnlearnConfig(epochs=3),
        FAST_TRAIN.model_copy(update={"epochs": 2}), 0, samples=samples,
    )  # fmt: skip
    unlearner.run(ctx)
    after = co.digests()
    assert all(after[k] != before[k] for k in before), f"{method} left a party unchanged"


# Bounds hold on this small, briefly trained fixture; the targets of the issue
# (digits: forget <= 2 %, retained >= original - 2 points) are measured on fully
# trained models by bench/unlearning.py and reported in BENCHMARKS.md. Two classes
# at once are not fully forgotten under the default damage guard (class 7 keeps
# about a third of its accuracy here): the bound says so rather than hiding it.
@pytest.mark.parametrize(
    ("classes", "max_forget", "max_retain_drop"), [([3], 0.05, 0.03), ([1, 7], 0.35, 0.04)]
)
def test_luv_forgets_the_classes_and_keeps_the_others(
    trained, classes, max_forget, max_retain_drop
) -> None:
    co, _ = trained
    labels = co.active.labels
    original = evaluate(co, labels, classes)
    create_method("luv").run(UnlearningContext(co, classes, UnlearnConfig(), FAST_TRAIN, 0))
    unlearned = evaluate(co, labels, classes)
    assert original.forget_acc > 0.9
    assert unlearned.forget_acc <= max_forget
    assert unlearned.retain_acc >= original.retain_acc - max_retain_drop
    assert unlearned.mia < original.mia


def test_unlearning_is_deterministic_given_the_seed(
    trained, digits_spec, digits, trained_state
) -> None:
    co, _ = trained
    with co.trial("s") as trial:
        create_method("luv").run(UnlearningContext(co, [3], UnlearnConfig(), FAST_TRAIN, 5))
        first = co.digests()
        trial.undo()
    create_method("luv").run(UnlearningContext(co, [3], UnlearnConfig(), FAST_TRAIN, 5))
    assert co.digests() == first


def test_training_is_deterministic_given_the_seed(digits_spec, digits) -> None:
    from tests.fixtures.federation import build_recorded

    digests = []
    for _ in range(2):
        co, _ = build_recorded(digits_spec, digits)
        co.train(digits.train_ids[:300], FAST_TRAIN.model_copy(update={"epochs": 1}), seed=3)
        digests.append(co.digests())
        co.close()
    assert digests[0] == digests[1]


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        ([], "at least one"),
        ([10], "out of range"),
        ([-1], "out of range"),
        ([2, 2], "twice"),
        (list(range(10)), "every class"),
        ([3] * 200_000, "200000 classes named: at most 9"),  # refused before it is scanned
        ([*range(10), 10**12], "11 classes named"),
        ([1, 4, 1, 4], "class 1 is named twice"),
    ],
)
def test_bad_class_requests_are_refused(classes, message) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_classes(classes, 10)


def test_more_forget_samples_than_exist_is_a_clear_error(trained) -> None:
    co, _ = trained
    ctx = UnlearningContext(co, [3], UnlearnConfig(forget_samples=10_000), FAST_TRAIN, 0)
    before = co.digests()
    with pytest.raises(ConfigError, match="cannot pick 10000"):
        create_method("luv").run(ctx)
    assert co.digests() == before


def test_few_shot_sets_are_training_samples_of_the_right_classes(trained) -> None:
    co, _ = trained
    ctx = UnlearningContext(co, [3], UnlearnConfig(), FAST_TRAIN, 0)
    ids = ctx.few_shot([3], 40, salt=1)
    labels = co.active.labels
    assert np.isin(ids, labels.train_ids).all()
    assert (labels.labels_of(ids) == 3).all() and len(np.unique(ids)) == 40


def test_unknown_feature_layer_is_a_clear_error(trained) -> None:
    co, _ = trained
    with pytest.raises(ConfigError, match="unknown layer"):
        co.features(np.arange(4), layer="logits")


@pytest.mark.parametrize("method", method_names())
def test_each_listed_method_loads_under_its_name(method) -> None:
    """The registry lists names before importing the methods; each must load as itself."""
    assert get_method(method).name == method
