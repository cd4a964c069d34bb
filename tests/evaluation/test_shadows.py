"""Shadow federations: who trains on what, the disk cache, and ``--eval full``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.fixtures.cli import run_vfl
from vfl.coordinator import Coordinator, TrainConfig
from vfl.data import Dataset
from vfl.evaluation import shadows
from vfl.evaluation.shadows import NO_UNLEARNING, ShadowJob, pool_of, shadow_confidences
from vfl.federation import FederationSpec
from vfl.metrics.lira import balanced_masks
from vfl.unlearning import UnlearnConfig

FORGET = [3]
TINY = TrainConfig(epochs=1, batch_size=64)


def _job(spec: FederationSpec, dataset: Dataset, cache: Path, methods) -> ShadowJob:
    pool, _ = pool_of(dataset, FORGET)
    return ShadowJob(
        spec=spec,
        train=TINY,
        unlearn=UnlearnConfig(),
        classes=FORGET,
        masks=balanced_masks(2, pool.size, seed=0),
        methods=methods,
        cache_dir=cache,
        pool=pool,
    )


def test_the_pool_is_the_forgotten_class_train_then_test(digits: Dataset) -> None:
    pool, member = pool_of(digits, FORGET)
    y = np.concatenate([digits.y_train, digits.y_test])
    assert (y[pool] == 3).all() and pool.size == int((y == 3).sum())
    assert (pool[member] < digits.n_train).all() and (pool[~member] >= digits.n_train).all()


def test_a_shadow_trains_on_retained_data_and_its_half_of_the_pool(
    digits_spec: FederationSpec, digits: Dataset, tmp_path: Path
) -> None:
    job = _job(digits_spec, digits, tmp_path, ((NO_UNLEARNING, {}),))
    data, shadow_pool = shadows._shadow_dataset(digits, job, 0)
    x = np.concatenate([digits.x_train, digits.x_test])
    shadow_x = np.concatenate([data.x_train, data.x_test])
    assert np.array_equal(shadow_x[shadow_pool], x[job.pool])  # the ids map to the same rows
    inside = shadow_pool < data.n_train
    assert np.array_equal(inside, job.masks[0])
    retained = int((~np.isin(digits.y_train, FORGET)).sum())
    assert data.n_train == retained + int(job.masks[0].sum())


def test_shadows_are_cached_and_a_new_method_reuses_the_trained_state(
    digits_spec: FederationSpec,
    digits: Dataset,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = shadow_confidences(
        _job(digits_spec, digits, tmp_path, ((NO_UNLEARNING, {}),)), 1, digits
    )
    assert first[NO_UNLEARNING].shape == (2, pool_of(digits, FORGET)[0].size)
    states = sorted((tmp_path / "shadows").glob("*.pt"))
    assert len(states) == 2
    loaded = torch.load(states[0], weights_only=True)
    assert set(loaded) == {*digits_spec.party_ids(), "active"}

    def no_training(*_args, **_kwargs):
        raise AssertionError("a cached shadow was trained again")

    monkeypatch.setattr(Coordinator, "train", no_training)
    methods = ((NO_UNLEARNING, {}), ("gradient-ascent", {}))
    again = shadow_confidences(_job(digits_spec, digits, tmp_path, methods), 1, digits)
    assert np.array_equal(again[NO_UNLEARNING], first[NO_UNLEARNING])
    # unlearning lowers the forgotten class's confidence on every shadow
    assert (again["gradient-ascent"].mean(1) < again[NO_UNLEARNING].mean(1)).all()


def test_simulate_eval_full_reports_every_metric(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    args = ["--epochs", "2", "--eval", "full", "--shadows", "2", "--cache-dir", str(tmp_path)]
    result = run_vfl("simulate", "--quiet", *args, "--json", str(out))
    assert result.exit_code == 0, result.stderr
    ev = json.loads(out.read_text())["evaluation"]
    assert ev["retrained"]["tow"] == 1.0 and ev["retrained"]["tow_mia"] == 1.0
    assert ev["original"]["relearn"]["steps"] == 0
    for phase in ("original", "unlearned", "retrained"):
        assert 0.0 <= ev[phase]["ulira"]["auc"] <= 1.0
        assert 0.0 <= ev[phase]["ulira_centred"]["auc"] <= 1.0
        assert set(ev[phase]["depth"]) == {
            "party passive-0",
            "party passive-1",
            "embeddings",
            "penultimate",
        }
    assert "U-LiRA AUC" in result.stdout + result.stderr


def test_default_eval_adds_nothing(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run_vfl("simulate", "--quiet", "--epochs", "1", "--json", str(out))
    assert result.exit_code == 0, result.stderr
    assert "evaluation" not in json.loads(out.read_text())
