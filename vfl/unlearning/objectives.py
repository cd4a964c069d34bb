"""Losses the active party computes on (mixed) embeddings; pure functions.

Each returns an :data:`~vfl.party.active.Objective`. The active party's
autograd differentiates through the mixing, so each passive party receives
the exact d(loss)/d(its original embeddings) -- the chain rule, with every
lambda accounted for -- rather than an average over blocks of mixed rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vfl.party.active import Objective
from vfl.unlearning.mixup import MixPlan, mixed_logits

__all__ = ["identity_plan", "mixup_objective"]


def identity_plan(labels: torch.Tensor) -> MixPlan:
    """A plan that leaves every sample unmixed (for baselines without mixup)."""
    n = labels.numel()
    idx = torch.arange(n)
    return MixPlan(left=idx, right=idx, lam=torch.ones(n), labels=labels.clone())


def mixup_objective(
    plan: MixPlan,
    ascent: bool,
    ce_cap: float | None = None,
    entropy_weight: float = 0.0,
    forgotten: Sequence[int] = (),
) -> Objective:
    """Cross-entropy of the mixed batch toward ``plan.labels``; negated for ascent.

    ``ce_cap`` bounds gradient ascent: a virtual sample whose cross-entropy is
    already above the cap contributes no gradient, so the loss cannot run off to
    infinity and drag the retained classes with it. That makes the step size
    forgiving, which the reference method's 2e-7 learning rate was not.

    ``forgotten`` (two or more classes forgotten at once): ascend on the
    cross-entropy toward the whole forgotten *set*, ``-log sum_{c in F} p_c``,
    instead of toward each sample's own label. Ascent on the own label only
    moves a sample's probability to the other classes -- including the other
    forgotten ones, whose ascent pushes it back: on MNIST with 4 classes at once
    LUV ran out of epochs with 8.3 % of them left. With one class the two are
    the same loss, and the own-label path is kept (bit-identical results).
    """
    sign = -1.0 if ascent else 1.0
    to_set = torch.tensor(sorted(forgotten), dtype=torch.int64) if len(forgotten) > 1 else None

    def objective(top: nn.Module, embeddings: list[torch.Tensor]) -> torch.Tensor:
        # One log-softmax serves both terms (cross-entropy is its NLL); on 2340
        # mixed rows it is among the costliest ops of a step.
        logp = torch.log_softmax(mixed_logits(top, embeddings, plan), dim=1)
        if to_set is None:
            ce = F.nll_loss(logp, plan.labels, reduction="none")
        else:
            ce = -torch.logsumexp(logp[:, to_set], dim=1)
        if ce_cap is not None:
            ce = torch.where(ce < ce_cap, ce, ce.detach())
        loss = sign * ce.mean()
        if entropy_weight:
            loss = loss + entropy_weight * (logp.exp() * logp).sum(1).mean()
        return loss

    return objective
