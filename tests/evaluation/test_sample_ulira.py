"""U-LiRA for sample requests: the candidates, the shadows' own requests, the cache key."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from vfl.coordinator import Coordinator, TrainConfig
from vfl.data import Dataset
from vfl.errors import ConfigError
from vfl.evaluation import EvalConfig, shadows
from vfl.evaluation.shadows import ShadowJob, pool_of, sample_pool, shadow_confidences
from vfl.federation import FederationSpec
from vfl.metrics.lira import balanced_masks
from vfl.simulation import SimulationConfig, run_simulation
from vfl.transport.inprocess import inprocess_federation
from vfl.unlearning import UnlearnConfig, UnlearningContext

TINY = TrainConfig(epochs=1, batch_size=64)
FORGET_N = 13  # 1 % of digits' training samples, as the benchmark


def _forget(digits: Dataset, n: int = FORGET_N, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(digits.train_ids, n, replace=False))


def _sample_job(spec: FederationSpec, digits: Dataset, cache: Path, methods) -> ShadowJob:
    forget = _forget(digits)
    pool, _ = sample_pool(digits, forget, seed=1)
    return ShadowJob(
        spec=spec,
        train=TINY,
        unlearn=UnlearnConfig(),
        classes=[],
        masks=balanced_masks(2, pool.size, seed=0),
        methods=methods,
        cache_dir=cache,
        pool=pool,
        forget=forget,
    )


def test_the_sample_pool_is_the_forget_samples_then_test_samples_of_their_classes(
    digits: Dataset,
) -> None:
    forget = _forget(digits)
    pool, member = sample_pool(digits, forget, seed=1)
    y = np.concatenate([digits.y_train, digits.y_test])
    assert np.array_equal(pool[member], forget)
    non_members = pool[~member]
    assert non_members.size == forget.size and np.unique(non_members).size == forget.size
    assert (non_members >= digits.n_train).all()  # test samples: never trained on
    assert sorted(y[non_members].tolist()) == sorted(y[forget].tolist())  # same class mix
    again, _ = sample_pool(digits, forget, seed=1)
    other, _ = sample_pool(digits, forget, seed=2)
    assert np.array_equal(again, pool) and not np.array_equal(other, pool)


def test_a_class_with_too_few_test_samples_to_match_is_a_config_error(digits: Dataset) -> None:
    threes = digits.train_ids[digits.y_train == 3]
    n_test = int((digits.y_test == 3).sum())
    assert threes.size > n_test
    with pytest.raises(ConfigError, match="class 3"):
        sample_pool(digits, threes[: n_test + 1], seed=1)


def test_a_sample_shadow_trains_on_retained_samples_and_its_half_of_the_pool(
    digits_spec: FederationSpec, digits: Dataset, tmp_path: Path
) -> None:
    job = _sample_job(digits_spec, digits, tmp_path, ())
    data, shadow_pool = shadows._shadow_dataset(digits, job, 1)
    x = np.concatenate([digits.x_train, digits.x_test])
    shadow_x = np.concatenate([data.x_train, data.x_test])
    assert np.array_equal(shadow_x[shadow_pool], x[job.pool])
    assert np.array_equal(shadow_pool < data.n_train, job.masks[1])
    assert data.n_train == digits.n_train - job.forget.size + int(job.masks[1].sum())
    # the test split: every test sample the shadow did not train on, plus its out-candidates
    outside_pool = digits.n_test - int((job.pool >= digits.n_train).sum())
    assert data.n_test == outside_pool + int((~job.masks[1]).sum())


def test_the_cache_key_covers_the_scope_and_the_forget_samples(
    digits_spec: FederationSpec, digits: Dataset, tmp_path: Path
) -> None:
    sample = _sample_job(digits_spec, digits, tmp_path, ())
    as_classes = replace(sample, forget=None)  # same pool and halves, class scope
    other = replace(sample, forget=sample.forget[1:])
    keys = {job.shadow_key(0) for job in (sample, as_classes, other)}
    assert len(keys) == 3
    assert sample.method_key(0, "retrain", {}) != as_classes.method_key(0, "retrain", {})
    pool, _ = pool_of(digits, [3])
    assert replace(as_classes, pool=pool, classes=[3]).scope == "classes"


class _Recorder:
    """A stand-in method that records the request each shadow was given."""

    seen: ClassVar[list[tuple[str, np.ndarray, np.ndarray]]] = []

    def run(self, ctx: UnlearningContext) -> None:
        assert ctx.samples is not None
        self.seen.append((ctx.scope, ctx.samples.copy(), ctx.retained_train_ids()))


def test_each_shadow_unlearns_exactly_its_own_in_candidates(
    digits_spec: FederationSpec,
    digits: Dataset,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _Recorder.seen = []
    monkeypatch.setattr(shadows, "create_method", lambda _name, _options: _Recorder())
    job = _sample_job(digits_spec, digits, tmp_path, (("recorder", {}),))
    shadow_confidences(job, 1, digits)
    assert len(_Recorder.seen) == 2
    retained = digits.n_train - job.forget.size
    for k, (scope, samples, kept) in enumerate(_Recorder.seen):
        data, shadow_pool = shadows._shadow_dataset(digits, job, k)
        assert scope == "samples"
        assert np.array_equal(samples, np.sort(shadow_pool[job.masks[k]]))
        assert (samples < data.n_train).all()  # training members of that shadow
        assert kept.size == retained  # what the shadow keeps = what the target keeps


def test_simulate_eval_full_measures_a_sample_request(digits: Dataset, tmp_path: Path) -> None:
    cfg = SimulationConfig(
        federation=FederationSpec(dataset="digits", seed=0),
        forget_random=FORGET_N,
        train=TrainConfig(epochs=2),
        evaluation=EvalConfig(level="full", shadows=2, workers=1, cache_dir=tmp_path),
    )
    report = run_simulation(cfg, digits)
    ev = report["evaluation"]
    assert report["method"] == "luv-samples" and ev["scope"] == "samples"
    assert ev["candidates"] == {"members": FORGET_N, "non_members": FORGET_N}
    assert ev["retrained"]["tow"] == 1.0 and ev["retrained"]["tow_mia"] == 1.0
    for phase in ("original", "unlearned", "retrained"):
        assert ev[phase]["depth"] == {}  # no class to probe for
        for key in ("ulira", "ulira_centred"):
            assert 0.0 <= ev[phase][key]["auc"] <= 1.0
            assert ev[phase][key]["members"] == FORGET_N
        # ToW's forget set is the forget samples: the report's own forget accuracy
        assert ev[phase]["split"]["forget"] == report[phase]["forget_acc"]
    assert len(list((tmp_path / "shadows").glob("*.pt"))) == 2
    assert len(list((tmp_path / "scores").glob("*.npy"))) == 2 * 3  # none, luv-samples, retrain


@pytest.mark.parametrize(("n", "sizes"), [(65, [65]), (129, [64, 65]), (130, [64, 64, 2])])
def test_a_lone_last_sample_joins_the_batch_before(
    digits_spec: FederationSpec,
    digits: Dataset,
    monkeypatch: pytest.MonkeyPatch,
    n: int,
    sizes: list[int],
) -> None:
    """A shadow's (or a sample request's) training set can be 1 mod the batch size;
    a batch of one sample cannot train BatchNorm bottoms (``vfl simulate
    --forget-random 2`` on digits, 1345 = 21 * 64 + 1, crashed with a traceback)."""
    seen: list[int] = []
    step = Coordinator.step
    monkeypatch.setattr(
        Coordinator, "step", lambda co, ids, obj: seen.append(ids.size) or step(co, ids, obj)
    )
    with inprocess_federation(digits_spec, digits) as co:
        co.train(digits.train_ids[:n], TrainConfig(epochs=1, batch_size=64), seed=0)
    assert seen == sizes
