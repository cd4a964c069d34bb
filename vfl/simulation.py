"""One end-to-end run: train, unlearn, evaluate, and (optionally) compare with retraining.

This is what ``vfl simulate`` calls; benchmarks call it too. It works on any
registered transport because it only talks to a :class:`Coordinator`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vfl.coordinator import Coordinator, TrainConfig
from vfl.data.base import Dataset
from vfl.federation import FederationSpec
from vfl.metrics import Evaluation, evaluate
from vfl.progress import ProgressCallback, ignore_progress
from vfl.seeding import derive_seed
from vfl.transport import TRANSPORTS
from vfl.transport.registry import TransportFactory
from vfl.unlearning import UnlearnConfig, UnlearningContext, create_method, validate_classes

__all__ = ["SimulationConfig", "default_epochs", "run_simulation", "unlearn_and_evaluate"]

ORIGINAL = "original"


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


def default_epochs(n_train: int) -> int:
    """About 50k sample-passes, between 3 and 40 epochs (digits: 37, MNIST: 3)."""
    return max(3, min(40, round(50_000 / max(n_train, 1))))


def _phase_result(evaluation: Evaluation, seconds: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = evaluation.as_dict()
    if seconds is not None:
        out["seconds"] = seconds
    return out


def unlearn_and_evaluate(
    co: Coordinator,
    method: str,
    classes: list[int],
    unlearn: UnlearnConfig,
    train: TrainConfig,
    seed: int,
    progress: ProgressCallback = ignore_progress,
    *,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run ``method`` (configured by ``options``) on the federation as it is; return its
    metrics and wall time."""
    ctx = UnlearningContext(co, classes, unlearn, train, seed, progress)
    unlearner = create_method(method, options)
    start = time.perf_counter()
    unlearner.run(ctx)
    seconds = time.perf_counter() - start
    return _phase_result(evaluate(co, co.active.labels, classes), seconds)


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
    create_method(cfg.method, cfg.method_options)  # fail fast on a bad name or option
    open_federation = open_with or TRANSPORTS.get(cfg.transport)
    dataset = dataset or spec.load()
    classes = validate_classes(list(cfg.classes), dataset.num_classes)
    train = cfg.train or TrainConfig(epochs=default_epochs(dataset.n_train))
    report: dict[str, Any] = {
        "dataset": spec.dataset,
        "parties": spec.parties,
        "classes_forgotten": classes,
        "method": cfg.method,
        "method_options": dict(cfg.method_options),
        "transport": cfg.transport,
        "seed": spec.seed,
        "train": train.model_dump(),
        "unlearn": cfg.unlearn.model_dump(),
    }
    with open_federation(spec, dataset) as co:
        on_phase("train")
        start = time.perf_counter()
        co.train(dataset.train_ids, train, derive_seed(spec.seed, "train-order"), progress)
        report["train_seconds"] = time.perf_counter() - start
        on_phase("evaluate")
        report["original"] = _phase_result(evaluate(co, co.active.labels, classes))
        co.snapshot(ORIGINAL)
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
        )
        if cfg.compare_retrain:
            on_phase("retrain")
            co.restore(ORIGINAL)
            report["retrained"] = unlearn_and_evaluate(
                co, "retrain", classes, cfg.unlearn, train, spec.seed, progress
            )
            report["speedup"] = report["retrained"]["seconds"] / max(
                report["unlearned"]["seconds"], 1e-9
            )
    return report
