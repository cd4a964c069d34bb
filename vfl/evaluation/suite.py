"""``--eval full``: ToW, relearn time, forgetting depth and U-LiRA for one simulation.

:class:`FullEvaluation` is told about each model as the simulation has it in
place (:meth:`FullEvaluation.observe`: original, unlearned, retrained) and
measures what needs the live federation then; :meth:`FullEvaluation.finish`
trains (or loads) the shadow federations and combines everything into the
report's ``evaluation`` section. Every metric's definition and source is in
:mod:`vfl.metrics` and docs/evaluation.md.

A sample request (``samples``) is measured the same way with its own sets:
ToW's forget set is the forget samples and its retain set the other training
samples (:func:`~vfl.metrics.evaluate_samples`); U-LiRA's candidates are the
forget samples and a matched test draw (:func:`~vfl.evaluation.shadows.sample_pool`);
relearn time fine-tunes on the forget samples. Forgetting depth is not
measured: it probes for a forgotten *class*, and a sample request has none
(per-sample membership is what U-LiRA asks).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from vfl.coordinator import Coordinator, TrainConfig
from vfl.data.base import Dataset
from vfl.evaluation.shadows import (
    NO_UNLEARNING,
    ShadowJob,
    default_cache_dir,
    pool_of,
    sample_pool,
    shadow_confidences,
)
from vfl.federation import FederationSpec
from vfl.metrics.base import evaluate_samples
from vfl.metrics.depth import forgetting_depth
from vfl.metrics.lira import attack_result, balanced_masks, lira_scores, logit_confidence
from vfl.metrics.relearn import relearn_steps
from vfl.metrics.tow import SplitAccuracy, split_accuracy, tow, tow_mia
from vfl.seeding import derive_seed
from vfl.unlearning import UnlearnConfig

__all__ = ["PHASES", "EvalConfig", "FullEvaluation"]

PHASES = ("original", "unlearned", "retrained")
RELEARN_SET = 512
"""At most this many forget-class training samples are fine-tuned on and measured."""


class EvalConfig(BaseModel):
    """How much evaluation a simulation runs; ``default`` is the cheap table only."""

    model_config = ConfigDict(frozen=True)

    level: Literal["default", "full"] = "default"
    shadows: int = Field(16, ge=2, le=1024, multiple_of=2)
    workers: int = Field(2, ge=1, le=64)
    cache_dir: Path | None = None
    """Shadow cache; None: ``~/.cache/vfl`` (``$XDG_CACHE_HOME/vfl``)."""
    relearn_alpha: float = Field(0.9, gt=0, le=1)
    relearn_max_steps: int = Field(300, ge=1, le=100_000)


class FullEvaluation:
    """Collects the full evaluation of one simulation, phase by phase."""

    def __init__(
        self,
        cfg: EvalConfig,
        spec: FederationSpec,
        dataset: Dataset,
        classes: list[int],
        train: TrainConfig,
        unlearn: UnlearnConfig,
        method: tuple[str, dict[str, Any]],
        samples: np.ndarray | None = None,
    ) -> None:
        self.cfg, self.spec, self.classes = cfg, spec, list(classes)
        self.dataset, self.samples = dataset, samples
        self.train, self.unlearn, self.method = train, unlearn, method
        if samples is None:
            self.pool, self.member = pool_of(dataset, self.classes)
        else:
            seed = derive_seed(spec.seed, "ulira-non-members")
            self.pool, self.member = sample_pool(dataset, samples, seed)
        self.labels_pool = np.concatenate([dataset.y_train, dataset.y_test])[self.pool]
        forget_train = self.pool[self.member]
        rng = np.random.default_rng(derive_seed(spec.seed, "relearn-set"))
        take = min(RELEARN_SET, forget_train.size)
        self.relearn_ids = np.sort(rng.choice(forget_train, take, replace=False))
        self.split: dict[str, SplitAccuracy] = {}
        self.depth: dict[str, dict[str, float]] = {}
        self.relearn: dict[str, dict[str, Any]] = {}
        self.target_conf: dict[str, np.ndarray] = {}
        self.seconds: dict[str, float] = {}
        self._relearn_target: float | None = None

    def observe(self, phase: str, co: Coordinator, mia: float) -> None:
        """Measure the model in place now (``phase`` in :data:`PHASES`).

        Leaves its weights and optimizer as they were (relearning runs in a trial).
        """
        start = time.perf_counter()
        labels = co.active.labels
        if self.samples is None:
            self.split[phase] = split_accuracy(co, labels, self.classes, mia)
            self.depth[phase] = forgetting_depth(co, labels, self.classes)
        else:
            ev = evaluate_samples(co, labels, self.samples)
            self.split[phase] = SplitAccuracy(ev.forget_acc, ev.retain_acc, ev.test_acc, mia)
            self.depth[phase] = {}  # no class to probe for (module docstring)
        self.target_conf[phase] = logit_confidence(co.logits(self.pool), self.labels_pool)
        self.relearn[phase] = self._relearn(phase, co)
        self.seconds[phase] = time.perf_counter() - start

    def _relearn(self, phase: str, co: Coordinator) -> dict[str, Any]:
        if self._relearn_target is None:  # the original comes first: its accuracy sets the bar
            truth = co.active.labels.labels_of(self.relearn_ids)
            acc = float((co.predict(self.relearn_ids) == truth).mean())
            self._relearn_target = self.cfg.relearn_alpha * acc
        with co.trial(f"relearn-{phase}") as trial:
            result = relearn_steps(
                co,
                self.relearn_ids,
                self._relearn_target,
                self.train.update,
                self.train.batch_size,
                self.cfg.relearn_max_steps,
                derive_seed(self.spec.seed, "relearn"),
            )
            trial.undo()
        return result.as_dict()

    def finish(self) -> dict[str, Any]:
        """Shadows, U-LiRA per phase, ToW: the report's ``evaluation`` section."""
        start = time.perf_counter()
        lira = self._ulira()
        self.seconds["shadows"] = time.perf_counter() - start
        out: dict[str, Any] = {
            "shadows": self.cfg.shadows,
            "scope": "classes" if self.samples is None else "samples",
            "candidates": {
                "members": int(self.member.sum()),
                "non_members": int((~self.member).sum()),
            },
            "relearn_alpha": self.cfg.relearn_alpha,
            "relearn_max_steps": self.cfg.relearn_max_steps,
        }
        for phase in self.split:
            row: dict[str, Any] = {
                "split": self.split[phase].as_dict(),
                "depth": self.depth[phase],
                "relearn": self.relearn[phase],
                **lira[phase],  # "ulira", "ulira_centred"
            }
            if "retrained" in self.split:
                row["tow"] = tow(self.split[phase], self.split["retrained"])
                row["tow_mia"] = tow_mia(self.split[phase], self.split["retrained"])
            out[phase] = row
        out["seconds"] = dict(self.seconds)
        return out

    def _ulira(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Per phase: ``{"ulira": ..., "ulira_centred": ...}`` (:func:`lira_scores`)."""
        name, options = self.method
        by_phase = {"original": (NO_UNLEARNING, {}), "unlearned": (name, options)}
        by_phase["retrained"] = ("retrain", {})
        wanted = {p: by_phase[p] for p in self.target_conf}
        methods = tuple(dict.fromkeys((m, _frozen(o)) for m, o in wanted.values()))
        masks = balanced_masks(
            self.cfg.shadows, self.pool.size, derive_seed(self.spec.seed, "lira")
        )
        job = ShadowJob(
            spec=self.spec,
            train=self.train,
            unlearn=self.unlearn,
            classes=self.classes,
            masks=masks,
            methods=tuple((m, dict(o)) for m, o in methods),
            cache_dir=self.cfg.cache_dir or default_cache_dir(),
            pool=self.pool,
            forget=self.samples,
        )
        conf = shadow_confidences(job, self.cfg.workers, self.dataset)
        out = {}
        for phase, (m, _options) in wanted.items():
            out[phase] = {
                key: attack_result(
                    lira_scores(conf[m], masks, self.target_conf[phase], centre), self.member
                ).as_dict()
                for key, centre in (("ulira", False), ("ulira_centred", True))
            }
        return out


def _frozen(options: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(options.items()))
