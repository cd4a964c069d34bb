"""One end-to-end run: train, unlearn, evaluate, and (optionally) compare with retraining.

This is what ``vfl simulate`` calls; benchmarks call it too. It works on any
registered transport because it only talks to a :class:`Coordinator`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from vfl.audit.config import DefenseConfig
from vfl.audit.defenses import defended_method, defense_transforms
from vfl.coordinator import Coordinator, TrainConfig
from vfl.data.base import Dataset
from vfl.errors import ConfigError
from vfl.evaluation import EvalConfig, FullEvaluation
from vfl.federation import FederationSpec
from vfl.metrics import evaluate, evaluate_samples
from vfl.progress import ProgressCallback, ignore_progress
from vfl.seeding import derive_seed
from vfl.transport import TRANSPORTS
from vfl.transport.registry import TransportFactory
from vfl.unlearning import UnlearnConfig, create_method, validate_classes
from vfl.unlearning.base import check_scope, validate_samples
from vfl.unlearning.run import phase_result, unlearn_and_evaluate
from vfl.unlearning.samples import SAMPLE_METHOD

__all__ = ["SimulationConfig", "default_classes", "default_epochs", "run_simulation"]

ORIGINAL = "original"
FORGET_RANDOM_SALT = 99  # the draw of --forget-random's samples


class SimulationConfig(BaseModel):
    """Everything ``vfl simulate`` takes."""

    model_config = ConfigDict(frozen=True)

    federation: FederationSpec = FederationSpec()
    classes: list[int] = Field(default_factory=lambda: [3])
    method: str = "luv"
    method_options: dict[str, Any] = Field(
        default_factory=dict, description="settings of `method` (its options_model)"
    )
    compare_retrain: bool = True
    transport: str = "inprocess"
    train: TrainConfig | None = None  # None: chosen from the dataset size
    unlearn: UnlearnConfig = UnlearnConfig()
    forget_ids: list[str] = Field(
        default_factory=list, description="sample-level: these samples' labels (IDs)"
    )
    forget_random: int = Field(0, ge=0, description="sample-level: this many random samples")
    evaluation: EvalConfig = EvalConfig()
    """``level="full"``: ToW, relearn time, forgetting depth and U-LiRA (vfl.evaluation)."""
    defenses: list[str] = Field(
        default_factory=list,
        description="gradient defenses on every step (vfl.audit.registry.DEFENSES); "
        "`hide` runs the unlearning as luv-hidden",
    )
    defense: DefenseConfig = DefenseConfig()

    @property
    def sample_level(self) -> bool:
        return bool(self.forget_ids) or self.forget_random > 0


def forget_positions(cfg: SimulationConfig, co: Coordinator) -> np.ndarray:
    """The training positions a sample request names: ``forget_ids`` (the federation's
    sample IDs; unknown or test IDs are one error), or ``forget_random`` seeded ones."""
    labels = co.active.labels
    if cfg.forget_ids:
        index = co.active.sample_index
        assert index is not None
        return validate_samples(index.positions(cfg.forget_ids), labels)
    if cfg.forget_random >= labels.train_ids.size:
        raise ConfigError(
            f"--forget-random {cfg.forget_random}: there are {labels.train_ids.size} "
            "training samples; forget fewer"
        )
    rng = np.random.default_rng([cfg.federation.seed, FORGET_RANDOM_SALT])
    return np.sort(rng.choice(labels.train_ids, cfg.forget_random, replace=False))


def default_classes(num_classes: int) -> list[int]:
    """The class ``vfl simulate`` forgets when none is named: 3 (the digits benchmark's),
    or the last class of a dataset with fewer (breast-cancer: 1), so every dataset runs."""
    return [min(3, num_classes - 1)]


def default_epochs(n_train: int) -> int:
    """About 50k sample-passes, between 3 and 40 epochs (digits: 37, MNIST: 3)."""
    return max(3, min(40, round(50_000 / max(n_train, 1))))


def run_simulation(
    cfg: SimulationConfig,
    dataset: Dataset | None = None,
    progress: ProgressCallback = ignore_progress,
    on_phase: Callable[[str], None] = lambda _phase: None,
    open_with: TransportFactory | None = None,
) -> dict[str, Any]:
    """Train, unlearn ``cfg.classes`` with ``cfg.method``, evaluate; return the report.

    ``open_with`` opens the federation instead of the transport named
    ``cfg.transport`` (Flower's ServerApp passes the grid it was given).
    """
    spec = cfg.federation
    transforms = defense_transforms(cfg.defenses, cfg.defense)  # a bad name fails here
    cfg = cfg.model_copy(update={"method": defended_method(cfg.defenses, cfg.method)})
    if cfg.sample_level and cfg.method == "luv":
        cfg = cfg.model_copy(update={"method": SAMPLE_METHOD})
    scope = "samples" if cfg.sample_level else "classes"
    check_scope(create_method(cfg.method, cfg.method_options), scope)  # fail fast
    open_federation = open_with or TRANSPORTS.get(cfg.transport)
    dataset = dataset or spec.load()
    classes = [] if cfg.sample_level else validate_classes(list(cfg.classes), dataset.num_classes)
    train = cfg.train or TrainConfig(epochs=default_epochs(dataset.n_train))
    report: dict[str, Any] = {
        "dataset": spec.dataset,
        "parties": spec.parties,
        "scope": scope,
        "classes_forgotten": classes,
        "class_names": list(dataset.class_names or map(str, range(dataset.num_classes))),
        "method": cfg.method,
        "method_options": dict(cfg.method_options),
        "transport": cfg.transport,
        "seed": spec.seed,
        "train": train.model_dump(),
        "unlearn": cfg.unlearn.model_dump(),
        "defenses": list(cfg.defenses),
        "defense_config": cfg.defense.model_dump() if cfg.defenses else None,
    }
    with open_federation(spec, dataset) as co, co.transforming(*transforms):
        on_phase("train")
        start = time.perf_counter()
        co.train(dataset.train_ids, train, derive_seed(spec.seed, "train-order"), progress)
        report["train_seconds"] = time.perf_counter() - start
        on_phase("evaluate")
        samples = forget_positions(cfg, co) if cfg.sample_level else None
        if samples is None:
            report["original"] = phase_result(evaluate(co, co.active.labels, classes))
        else:
            report["samples_forgotten"] = int(samples.size)
            report["original"] = phase_result(evaluate_samples(co, co.active.labels, samples))
        suite = _full_evaluation(cfg, dataset, classes, train, samples)
        _observe(suite, "original", co, report)
        with co.trial(ORIGINAL) as original:
            on_phase("unlearn")
            report["unlearned"] = unlearn_and_evaluate(
                co,
                cfg.method,
                classes,
                cfg.unlearn,
                train,
                spec.seed,
                progress,
                options=cfg.method_options,
                samples=samples,
            )
            _observe(suite, "unlearned", co, report)
            if not cfg.compare_retrain:
                original.keep()
                return _finished(suite, report)
            on_phase("retrain")
            original.undo()  # retraining starts from the trained federation, as unlearning did
            report["retrained"] = unlearn_and_evaluate(
                co, "retrain", classes, cfg.unlearn, train, spec.seed, progress, samples=samples
            )
            _observe(suite, "retrained", co, report)
        report["speedup"] = report["retrained"]["seconds"] / max(
            report["unlearned"]["seconds"], 1e-9
        )
    return _finished(suite, report)


def _full_evaluation(
    cfg: SimulationConfig,
    dataset: Dataset,
    classes: list[int],
    train: TrainConfig,
    samples: np.ndarray | None,
) -> FullEvaluation | None:
    if cfg.evaluation.level != "full":
        return None
    method = (cfg.method, dict(cfg.method_options))
    return FullEvaluation(
        cfg.evaluation, cfg.federation, dataset, classes, train, cfg.unlearn, method, samples
    )


def _observe(suite: FullEvaluation | None, phase: str, co: Coordinator, report: dict) -> None:
    if suite is not None:
        suite.observe(phase, co, report[phase]["mia"])


def _finished(suite: FullEvaluation | None, report: dict[str, Any]) -> dict[str, Any]:
    """The report, with the full evaluation (shadows, U-LiRA, ToW) when it was asked for."""
    if suite is not None:
        report["evaluation"] = suite.finish()
    return report
