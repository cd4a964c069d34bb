"""Label leakage from training gradients on an imbalanced binary task, and its defenses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn import datasets as skd

from vfl.audit.defenses import DefenseConfig
from vfl.audit.run import AuditConfig, run_audit
from vfl.coordinator import TrainConfig
from vfl.data.base import Dataset
from vfl.data.tabular import from_arrays
from vfl.federation import FederationSpec
from vfl.unlearning import UnlearnConfig

MALIGNANT = 0  # the class made rare below: Li et al.'s "positive" class


def imbalanced_breast_cancer(keep: int = 40) -> Dataset:
    """Breast cancer with only ``keep`` malignant samples (~10 % positives)."""
    bunch = skd.load_breast_cancer()
    rng = np.random.default_rng(0)
    rare = rng.choice(np.flatnonzero(bunch.target == MALIGNANT), keep, replace=False)
    rows = np.concatenate([rare, np.flatnonzero(bunch.target != MALIGNANT)])
    return from_arrays("breast-cancer", bunch.data[rows], bunch.target[rows], seed=0)


def leakage(defenses: list[str], **defense: float) -> dict[str, dict[str, Any]]:
    cfg = AuditConfig(
        federation=FederationSpec(dataset="breast-cancer"),
        classes=[MALIGNANT],
        defenses=defenses,
        defense=DefenseConfig(**defense),
        attacks=["norm", "direction"],
        compare_retrain=False,
        train=TrainConfig(epochs=10),
        unlearn=UnlearnConfig(forget_samples=10),
    )
    return {row["name"]: row for row in run_audit(cfg, imbalanced_breast_cancer())["attacks"]}


@pytest.fixture(scope="module")
def maxnorm() -> dict[str, dict[str, Any]]:
    return leakage(["maxnorm"])


def test_norm_and_direction_attacks_leak_labels_without_defense(maxnorm: dict) -> None:
    assert maxnorm["norm"]["undefended"] > 0.65
    assert maxnorm["direction"]["undefended"] > 0.9


def test_max_norm_defense_lowers_both_attacks(maxnorm: dict) -> None:
    assert maxnorm["norm"]["defended"] < maxnorm["norm"]["undefended"] - 0.1
    assert maxnorm["direction"]["defended"] < maxnorm["direction"]["undefended"] - 0.2


def test_gaussian_noise_lowers_the_norm_attack() -> None:
    rows = leakage(["noise"], noise_multiplier=2.0)
    assert rows["norm"]["defended"] < rows["norm"]["undefended"] - 0.05
    assert rows["direction"]["defended"] < rows["direction"]["undefended"]
