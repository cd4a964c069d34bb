"""Run one unlearning method by name on a federation, and evaluate what it left.

The simulations, the benchmarks and the active server's unlearn requests all
do exactly this, so it lives here, below all of them: the server
(``parties/active_server.py``) must not import :mod:`vfl.simulation`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from vfl.coordinator import Coordinator, TrainConfig
from vfl.metrics import Evaluation, evaluate, evaluate_samples
from vfl.progress import ProgressCallback, ignore_progress
from vfl.unlearning import UnlearnConfig, UnlearningContext, create_method
from vfl.unlearning.base import check_scope

__all__ = ["phase_result", "unlearn_and_evaluate"]


def phase_result(evaluation: Evaluation, seconds: float | None = None) -> dict[str, Any]:
    """A report's row for one phase: the evaluation's metrics, and its wall time if timed."""
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
    samples: np.ndarray | None = None,
) -> dict[str, Any]:
    """Run ``method`` (configured by ``options``) on the federation as it is; return its
    metrics, wall time, and whether it reached its own target
    (:class:`~vfl.unlearning.base.Outcome`). With ``samples`` (training positions) the
    request forgets those samples' labels instead of ``classes``."""
    ctx = UnlearningContext(co, classes, unlearn, train, seed, progress, samples)
    unlearner = create_method(method, options)
    check_scope(unlearner, ctx.scope)
    start = time.perf_counter()
    outcome = unlearner.run(ctx)
    seconds = time.perf_counter() - start
    labels = co.active.labels
    if samples is not None:
        evaluation = evaluate_samples(co, labels, samples)
        return {**phase_result(evaluation, seconds), **(outcome.as_dict() if outcome else {})}
    if outcome is None:  # the method has no gauge of its own: check the few-shot forget set
        outcome = ctx.outcome(ctx.forget_set())
    return {**phase_result(evaluate(co, labels, classes), seconds), **outcome.as_dict()}
