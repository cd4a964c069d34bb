"""What an unlearning request is, and the registry of methods that serve it.

A method runs at the active party through the :class:`Coordinator`; it may
pick samples by label (the active party holds them) but reaches passive
parties only through the ordinary embed/backward API. The registry and
:class:`UnlearnConfig` live in torch-free modules and are re-exported here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from pydantic import BaseModel

from vfl.coordinator import Coordinator, TrainConfig
from vfl.data.base import LabelShard
from vfl.errors import ConfigError
from vfl.progress import ProgressCallback, ignore_progress
from vfl.unlearning.config import UnlearnConfig
from vfl.unlearning.registry import create_method, get_method, method_names, register_method

__all__ = [
    "FORGET_SALT",
    "Outcome",
    "UnlearnConfig",
    "UnlearningContext",
    "UnlearningMethod",
    "check_scope",
    "create_method",
    "get_method",
    "method_names",
    "register_method",
    "validate_classes",
    "validate_samples",
]


FORGET_SALT = 1
"""Seeds the draw of the few-shot forget set (:meth:`UnlearningContext.forget_set`)."""


@dataclass(frozen=True)
class Outcome:
    """Whether a request reached its own target, judged on training data only.

    ``forget_gauge`` is the forgotten classes' accuracy on the forget samples the
    method may see (never test data); the target is ``UnlearnConfig.forget_target``.
    A request that stops short -- out of epochs, or its guard refused every larger
    step -- says so here instead of passing for a success.
    """

    forget_gauge: float
    forget_target: float

    @property
    def target_reached(self) -> bool:
        return self.forget_gauge <= self.forget_target

    @property
    def shortfall(self) -> float:
        """How far the gauge is above the target (a fraction; 0 when reached)."""
        return max(0.0, self.forget_gauge - self.forget_target)

    def as_dict(self) -> dict[str, float | bool]:
        return {
            "target_reached": self.target_reached,
            "shortfall": self.shortfall,
            "forget_gauge": self.forget_gauge,
            "forget_target": self.forget_target,
        }


@dataclass
class UnlearningContext:
    """Everything a method may use: the federation, the request, its budget.

    A request forgets whole ``classes``, or (``samples``, wire positions of
    training samples) the labels of some samples -- a customer who withdrew
    consent. The target of a sample request is retraining without those
    samples: they should look like samples the model never saw, not be wrong.
    """

    coordinator: Coordinator
    classes: list[int]
    config: UnlearnConfig
    train: TrainConfig
    seed: int
    progress: ProgressCallback = ignore_progress
    samples: np.ndarray | None = None

    @property
    def scope(self) -> str:
        return "classes" if self.samples is None else "samples"

    @property
    def labels(self) -> LabelShard:
        return self.coordinator.active.labels

    def rng(self, *salt: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, *salt])

    def retained_classes(self) -> list[int]:  # every class, for a sample request
        return [c for c in range(self.labels.num_classes) if c not in self.classes]

    def retained_train_ids(self) -> np.ndarray:
        """The training samples the request keeps: every other class, or every other sample."""
        if self.samples is not None:
            train = self.labels.train_ids
            return train[~np.isin(train, self.samples)]
        return self.labels.train_ids_of(self.retained_classes())

    def forget_set(self) -> np.ndarray:
        """The few-shot forget set: ``forget_samples`` seeded training IDs per class."""
        return self.few_shot(self.classes, self.config.forget_samples, FORGET_SALT)

    def outcome(self, ids: np.ndarray) -> Outcome:
        """The target check on ``ids`` (forget-class training samples in the method's view)."""
        pred = self.coordinator.predict(ids)
        gauge = float((pred == self.labels.labels_of(ids)).mean())
        return Outcome(gauge, self.config.forget_target)

    def few_shot(self, classes: list[int], per_class: int, salt: int) -> np.ndarray:
        """``per_class`` seeded random training IDs of each class (sorted by class)."""
        rng = self.rng(salt)
        picks = []
        for c in classes:
            pool = self.labels.train_ids_of([c])
            if per_class > pool.size:
                raise ConfigError(
                    f"class {c} has {pool.size} training samples; cannot pick {per_class}"
                )
            picks.append(np.sort(rng.choice(pool, per_class, replace=False)))
        return np.concatenate(picks).astype(np.int64) if picks else np.empty(0, np.int64)


class UnlearningMethod(ABC):
    """One way of forgetting classes, listed in :mod:`vfl.unlearning.registry`.

    The request's knobs come with each run (``ctx.config``); settings that
    belong to one method alone are its ``options_model``, and
    :func:`create_method` passes them to its constructor.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    options_model: ClassVar[type[BaseModel] | None] = None
    scopes: ClassVar[frozenset[str]] = frozenset({"classes"})
    """What it can forget: ``classes``, ``samples`` (sample-level label unlearning), both."""

    @abstractmethod
    def run(self, ctx: UnlearningContext) -> Outcome | None:
        """Change the federation's models so that ``ctx.classes`` are forgotten.

        Return the :class:`Outcome` the method's own stopping rule measured, or
        None to have the caller check the target on the few-shot forget set
        (:meth:`UnlearningContext.forget_set`).
        """


def check_scope(method: UnlearningMethod, scope: str) -> None:
    """A class-level method cannot serve a sample request, nor the other way round."""
    if scope not in method.scopes:
        fit = [n for n in method_names() if scope in get_method(n).scopes]
        raise ConfigError(
            f"method {method.name!r} forgets {' and '.join(sorted(method.scopes))}, not "
            f"{scope}; for {scope} use one of: {', '.join(fit)}"
        )


def validate_samples(positions: np.ndarray, labels: LabelShard) -> np.ndarray:
    """A sample request names training samples, each once, and leaves some to train on."""
    positions = np.asarray(positions, dtype=np.int64)
    if positions.size == 0:
        raise ConfigError("name at least one sample to forget")
    if np.unique(positions).size != positions.size:
        raise ConfigError("a sample is named twice; name each sample once")
    outside = ~np.isin(positions, labels.train_ids)
    if outside.any():
        raise ConfigError(
            f"{int(outside.sum())} of {positions.size} samples are not training samples "
            "(only what the model was trained on can be forgotten)"
        )
    if positions.size >= labels.train_ids.size:
        raise ConfigError("cannot forget every training sample")
    return np.sort(positions)


def validate_classes(classes: list[int], num_classes: int) -> list[int]:
    """Check a forget request against the label space (one message per mistake).

    Linear and bounded: a list longer than the label space is refused before
    any element is looked at (it cannot be valid), so a request naming one
    class 200 000 times costs nothing.
    """
    if not classes:
        raise ConfigError("name at least one class to forget")
    if len(classes) > num_classes:
        raise ConfigError(
            f"{len(classes)} classes named: at most {num_classes - 1} of the "
            f"{num_classes} can be forgotten (at least one must be retained)"
        )
    bad = next((c for c in classes if not 0 <= c < num_classes), None)
    if bad is not None:
        raise ConfigError(f"class {bad} is out of range: classes are 0..{num_classes - 1}")
    counts = Counter(classes)
    repeated = min((c for c, n in counts.items() if n > 1), default=None)
    if repeated is not None:
        raise ConfigError(f"class {repeated} is named twice; name each class once")
    if len(classes) == num_classes:
        raise ConfigError("cannot forget every class: at least one must be retained")
    return sorted(classes)
