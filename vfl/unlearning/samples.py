"""Sample-level label unlearning: forget some samples' labels, as if never trained on.

A customer who withdraws consent needs *their* samples forgotten, not a class.
The target is the model retrained without those samples, in which they are
ordinary unseen samples: mostly still classified right, with the losses of
samples the model never saw. Driving them to 0 % accuracy (what class-level
forgetting does) would overshoot and mark them out as surely as remembering.

**LUV for samples** (``luv-samples``), in the paper's spirit, all at the active
party:

1. The *non-member level*: the per-sample cross-entropy of held-out labelled
   samples (the test split, at most :data:`REFERENCE_SAMPLES` of them, a seeded
   draw), sorted. Each forget sample gets a target loss by rank: the forget
   sample with the k-th lowest loss now is given the k-th quantile of the
   non-member losses, so the forget set's losses end up distributed like
   non-members' (what a per-example membership test compares).
2. Each step mixes every forget sample's embeddings with a same-class retained
   partner (``lambda`` 0.75) and with another forget sample of its class, and
   ascends on the cross-entropy of those virtual samples and of the forget
   samples themselves -- each row only until it reaches its sample's target
   (gradient ascent that stops at the non-member level, not at infinity).
3. The same step descends on a seeded batch of retained samples (recovery), so
   the retained data keep their fit.

It stops when the forget samples' mean shortfall below their targets is under
:data:`LEVEL_TOLERANCE` nats (its :class:`~vfl.unlearning.base.Outcome` gauge),
or after ``epochs`` steps. Passive parties see sample IDs and embedding
gradients only, as in every request.

The baselines share the batch and the stop: **NegGrad+** (Kurmanji et al., 2023:
descend on retained, ascend uncapped on the forget samples) and **random-label**
for samples (descend toward a random other class). ``finetune`` and ``retrain``
serve sample requests too (they train on :meth:`UnlearningContext.retained_train_ids`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from vfl.coordinator import Coordinator
from vfl.party.active import Objective
from vfl.progress import ProgressEvent
from vfl.unlearning.base import Outcome, UnlearningContext, UnlearningMethod
from vfl.unlearning.fewshot import _configure
from vfl.unlearning.mixup import MixPlan, mixed_logits

__all__ = [
    "SAMPLE_METHOD",
    "NegGradPlus",
    "SampleLUV",
    "SampleOptions",
    "SampleRandomLabel",
    "non_member_targets",
]

SAMPLE_METHOD = "luv-samples"
"""What ``method="luv"`` means for a sample request: LUV's sample-level form."""
REFERENCE_SAMPLES = 512
"""Held-out samples whose losses define the non-member level."""
LEVEL_TOLERANCE = 0.01
"""Mean shortfall (nats) below the targets at which a sample request has arrived."""
PARTNER_LAMBDA = 0.75
SAMPLE_SALT, REFERENCE_SALT = 11, 12

RowLosses = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``(per-row cross-entropy, per-row target) -> the forget rows' loss`` to minimise."""


def per_sample_ce(co: Coordinator, ids: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Cross-entropy of each sample under the current model (eval mode)."""
    logits = co.logits(ids)
    return F.cross_entropy(logits, torch.from_numpy(labels), reduction="none").numpy()


def non_member_targets(reference_ce: np.ndarray, forget_ce: np.ndarray) -> np.ndarray:
    """Each forget sample's target loss: the non-member quantile of its rank.

    Rank-matching makes the forget set's loss distribution that of the
    reference (non-member) set while moving each sample as little as it can.
    """
    ranks = np.argsort(np.argsort(forget_ce, kind="stable"), kind="stable")
    quantiles = (ranks + 0.5) / forget_ce.size
    return np.quantile(np.sort(reference_ce), quantiles).astype(np.float32)


class SampleOptions(BaseModel):
    """The step of a sample request (``--method-option``); ``UnlearnConfig.epochs`` bounds it.

    Plain SGD, not the class-level Adam: a first Adam step moves every weight by
    about ``lr`` whatever its gradient, and forgetting 1 % of the samples needs a
    small, targeted move. Measured on digits (bench/samples.py, 3 seeds, 1 % of the
    training samples): Adam at 1e-3 left the forget set 2.6 points off retraining's;
    SGD at 0.05, 0.1 and 0.2 matched it, and 0.1 kept test accuracy best.
    """

    model_config = ConfigDict(frozen=True)

    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: float = Field(0.1, gt=0, le=10)


class SampleMethod(UnlearningMethod):
    """The shared loop: one combined forget + recovery step per epoch, stopped at the level."""

    scopes = frozenset({"samples"})
    options_model = SampleOptions
    partners = False  # mix with same-class partners (LUV) or use the samples alone

    def __init__(self, options: SampleOptions | None = None) -> None:
        self.options = options or SampleOptions()

    def forget_rows(self, ce: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forget_labels(self, ctx: UnlearningContext, y: np.ndarray) -> np.ndarray:
        return y  # the true labels (ascent); random-label swaps them

    def run(self, ctx: UnlearningContext) -> Outcome:
        assert ctx.samples is not None
        co, cfg, labels = ctx.coordinator, ctx.config, ctx.labels
        forget = ctx.samples
        y = labels.labels_of(forget)
        targets = non_member_targets(_reference_ce(ctx), per_sample_ce(co, forget, y))
        retained = ctx.retained_train_ids()
        rng = ctx.rng(SAMPLE_SALT)
        opts = self.options
        _configure(co, cfg.model_copy(update={"optimizer": opts.optimizer}), opts.lr)
        gap = _shortfall(co, forget, y, targets)
        for epoch in range(1, cfg.epochs + 1):
            if gap <= LEVEL_TOLERANCE:
                break
            ids, objective = self._step(ctx, forget, y, targets, retained, rng)
            co.step(ids, objective)
            gap = _shortfall(co, forget, y, targets)
            ctx.progress(ProgressEvent("unlearn", epoch, cfg.epochs, {"shortfall": gap}))
        ctx.progress(ProgressEvent("unlearn", cfg.epochs, cfg.epochs))
        return Outcome(gap, LEVEL_TOLERANCE)

    def _step(
        self,
        ctx: UnlearningContext,
        forget: np.ndarray,
        y: np.ndarray,
        targets: np.ndarray,
        retained: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, Objective]:
        """The batch (forget, partners, recovery: distinct IDs) and its objective."""
        labels = ctx.labels
        partners = _partners(retained, labels.labels_of(retained), y, rng) if self.partners else []
        pool = retained[~np.isin(retained, partners)]
        n_recovery = min(pool.size, max(32, 2 * forget.size))
        recovery = np.sort(rng.choice(pool, n_recovery, replace=False))
        ids = np.concatenate([forget, np.asarray(partners, dtype=np.int64), recovery])
        left, right, lam = _forget_rows(forget.size, len(partners), y, rng)
        first = forget.size + len(partners)  # recovery rows: each sample alone
        alone = np.arange(first, first + recovery.size)
        plan = MixPlan(
            left=torch.from_numpy(np.concatenate([left, alone])),
            right=torch.from_numpy(np.concatenate([right, alone])),
            lam=torch.from_numpy(np.concatenate([lam, np.ones(alone.size)]).astype(np.float32)),
            labels=torch.from_numpy(
                np.concatenate([self.forget_labels(ctx, y)[left], labels.labels_of(recovery)])
            ),
        )
        row_target = torch.from_numpy(targets[left])  # a forget row's sample is its left end
        m = left.size

        def objective(top: nn.Module, embeddings: list[torch.Tensor]) -> torch.Tensor:
            ce = F.cross_entropy(mixed_logits(top, embeddings, plan), plan.labels, reduction="none")
            return self.forget_rows(ce[:m], row_target) + ce[m:].mean()

        return ids, objective


def _forget_rows(
    n: int, n_partners: int, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(left, right, lambda)`` of the forget rows: each sample alone; with its partner
    (if any); with a same-class forget sample (if its class has another). Batch layout:
    forget samples, then partners, then recovery samples."""
    idx = np.arange(n)
    mate = idx.copy()
    for c in np.unique(y):
        pos = np.flatnonzero(y == c)
        mate[pos] = np.roll(rng.permutation(pos), 1) if pos.size > 1 else pos
    mixed = mate != idx
    parts = [(idx, idx, 1.0), (idx[mixed], mate[mixed], 0.5)]
    if n_partners:
        parts.insert(1, (idx, n + idx, PARTNER_LAMBDA))
    left = np.concatenate([a for a, _, _ in parts])
    right = np.concatenate([b for _, b, _ in parts])
    lam = np.concatenate([np.full(a.size, w) for a, _, w in parts])
    return left, right, lam


def _partners(
    retained: np.ndarray, retained_y: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> list[int]:
    """A distinct same-class retained sample for each forget sample (where the class has
    enough); a class with none retained mixes its forget samples only with each other."""
    out: list[int] = []
    for c in np.unique(y):
        pool = retained[retained_y == c]
        need = int((y == c).sum())
        if pool.size >= need:
            out += rng.choice(pool, need, replace=False).tolist()
    return out if len(out) == y.size else []


def _reference_ce(ctx: UnlearningContext) -> np.ndarray:
    """Losses of held-out labelled samples (non-members by construction)."""
    test = ctx.labels.test_ids
    rng = ctx.rng(REFERENCE_SALT)
    ref = np.sort(rng.choice(test, min(REFERENCE_SAMPLES, test.size), replace=False))
    return per_sample_ce(ctx.coordinator, ref, ctx.labels.labels_of(ref))


def _shortfall(co: Coordinator, ids: np.ndarray, y: np.ndarray, targets: np.ndarray) -> float:
    return float(np.maximum(targets - per_sample_ce(co, ids, y), 0.0).mean())


def _capped_ascent(ce: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Ascend each row's loss until it reaches its target, then leave it."""
    return -torch.where(ce < target, ce, ce.detach()).mean()


class SampleLUV(SampleMethod):
    """LUV for samples: mixup ascent to the non-member level, with recovery in the step."""

    name = "luv-samples"
    summary = "sample-level LUV: mixup ascent to the non-member loss level, with recovery"
    partners = True

    def forget_rows(self, ce: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _capped_ascent(ce, target)


class NegGradPlus(SampleMethod):
    """NegGrad+: descend on retained samples, ascend (uncapped) on the forget samples."""

    name = "neggrad-plus"
    summary = "NegGrad+: ascent on the forget samples, descent on retained ones"

    def forget_rows(self, ce: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return -ce.mean()


class SampleRandomLabel(SampleMethod):
    """Train the forget samples toward a random other class, with recovery."""

    name = "random-label-samples"
    summary = "train the forget samples toward random other classes, with recovery"

    def forget_labels(self, ctx: UnlearningContext, y: np.ndarray) -> np.ndarray:
        rng = ctx.rng(SAMPLE_SALT, 1)
        shift = rng.integers(1, ctx.labels.num_classes, size=y.size)
        return (y + shift) % ctx.labels.num_classes

    def forget_rows(self, ce: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return ce.mean()
