"""Relearn time: how fast fine-tuning on the forget set brings the forgotten class back.

Source: the Anamnesis index of Chundawat, Tarun, Mandal, Kankanhalli,
"Zero-Shot Machine Unlearning" (IEEE TIFS 2023, arXiv 2201.05629): fine-tune
the model on the forget set and count the steps until its forget-set accuracy
is back to a fraction (``alpha``, 0.9 there) of the original model's. A model
that only *hides* the class relearns it in a few steps; a retrained model
has to learn it from its retained knowledge alone. The index compares the
unlearned model's count with the retrained model's (ratio near 1 = as deep
as retraining); the original model needs 0 steps.

Here the steps are mini-batch steps of the normal federated training (every
party steps, passive parties see only IDs and gradients), on the forgotten
classes' training samples in a seeded order; the count is capped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np

from vfl.coordinator import Coordinator, cross_entropy_objective
from vfl.party.optim import UpdateConfig

__all__ = ["RelearnResult", "relearn_steps"]


@dataclass(frozen=True)
class RelearnResult:
    """``steps`` to reach ``target`` accuracy; ``reached`` False when the cap stopped it."""

    steps: int
    reached: bool
    target: float
    final_acc: float

    def as_dict(self) -> dict[str, float | int | bool]:
        return asdict(self)


def _forget_acc(co: Coordinator, ids: np.ndarray, labels: np.ndarray) -> float:
    co.flush()
    return float((co.predict(ids) == labels).mean())


def relearn_steps(
    co: Coordinator,
    ids: np.ndarray,
    target: float,
    update: UpdateConfig,
    batch_size: int,
    max_steps: int,
    seed: int,
) -> RelearnResult:
    """Fine-tune on ``ids`` until their accuracy is at least ``target``; count the steps.

    Changes the federation: call it inside a :meth:`Coordinator.trial` and undo.
    Accuracy is checked before every step, so a model already at the target
    takes 0 steps. Deterministic: the batch order comes from ``seed``.
    """
    labels = co.active.labels.labels_of(ids)
    co.configure(update)
    batches = _batches(ids, batch_size, seed)
    acc = _forget_acc(co, ids, labels)
    for step in range(max_steps):
        if acc >= target:
            return RelearnResult(step, True, target, acc)
        batch = next(batches)
        co.step(batch, cross_entropy_objective(co.active.labels_of(batch)))
        acc = _forget_acc(co, ids, labels)
    return RelearnResult(max_steps, acc >= target, target, acc)


def _batches(ids: np.ndarray, size: int, seed: int) -> Iterator[np.ndarray]:
    """Endless epochs of seeded permutations, cut into batches (the last one per epoch
    may be short): a batch never holds an ID twice."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(ids)
        for start in range(0, order.size, size):
            yield order[start : start + size]
