"""Manifold mixup of embeddings, as pure tensor functions.

Mixing happens at the active party on the embeddings the passive parties
sent, identically for every party (same pairs, same lambdas), so the mixed
rows are the embeddings of a consistent virtual sample. Everything is
vectorised: pairs are built with ``triu_indices`` per class and applied as one
matrix product per party.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vfl.models.top import TopModel

__all__ = ["MixPlan", "all_pairs_plan", "mix", "mixed_logits", "mixing_matrix", "partner_plan"]


@dataclass(frozen=True)
class MixPlan:
    """Row ``r`` of the mixed batch is ``lam[r] * E[left[r]] + (1 - lam[r]) * E[right[r]]``.

    ``labels[r]`` is the label of the virtual sample (both ends share a class).
    """

    left: torch.Tensor  # int64 [m]
    right: torch.Tensor  # int64 [m]
    lam: torch.Tensor  # float32 [m]
    labels: torch.Tensor  # int64 [m]

    def __len__(self) -> int:
        return int(self.left.numel())


def _positions_by_class(labels: torch.Tensor) -> list[torch.Tensor]:
    return [torch.nonzero(labels == c).flatten() for c in torch.unique(labels)]


def all_pairs_plan(labels: torch.Tensor, lambdas: Sequence[float]) -> MixPlan:
    """Every within-class pair ``i < j``, once per ``lambda``.

    With ``n`` samples of one class and 3 lambdas that is ``3 n (n-1) / 2`` rows.
    """
    lefts, rights = [], []
    for pos in _positions_by_class(labels):
        i, j = torch.triu_indices(pos.numel(), pos.numel(), offset=1)
        lefts.append(pos[i])
        rights.append(pos[j])
    left, right = torch.cat(lefts), torch.cat(rights)
    lam = torch.tensor(list(lambdas), dtype=torch.float32)
    n_pairs, n_lam = left.numel(), lam.numel()
    return MixPlan(
        left=left.repeat(n_lam),
        right=right.repeat(n_lam),
        lam=lam.repeat_interleave(n_pairs),
        labels=labels[left].repeat(n_lam),
    )


def partner_plan(labels: torch.Tensor, alpha: float, rng: np.random.Generator) -> MixPlan:
    """Each sample mixed with a random same-class partner, ``lambda ~ Beta(alpha, alpha)``."""
    n = labels.numel()
    right = torch.arange(n)
    for pos in _positions_by_class(labels):
        right[pos] = pos[torch.from_numpy(rng.permutation(pos.numel()))]
    lam = torch.from_numpy(rng.beta(alpha, alpha, size=n).astype(np.float32))
    return MixPlan(left=torch.arange(n), right=right, lam=lam, labels=labels.clone())


def mixing_matrix(plan: MixPlan, n: int) -> torch.Tensor:
    """The ``[len(plan), n]`` matrix ``M`` with ``mixed = M @ E``; every row sums to one.

    A matmul rather than a gather: its backward (``M.T @ grad``) sums in a fixed
    order, so the gradients a party receives are bit-for-bit reproducible.
    """
    m = torch.zeros(len(plan), n)
    rows = torch.arange(len(plan))
    m[rows, plan.left] = plan.lam
    m[rows, plan.right] += 1.0 - plan.lam
    return m


def mix(embeddings: Sequence[torch.Tensor], plan: MixPlan) -> list[torch.Tensor]:
    """Apply ``plan`` to each party's embedding matrix (differentiable in ``embeddings``)."""
    m = mixing_matrix(plan, embeddings[0].shape[0])
    return [m @ e for e in embeddings]


def mixed_logits(top: nn.Module, embeddings: Sequence[torch.Tensor], plan: MixPlan) -> torch.Tensor:
    """The top model's logits for the virtual samples of ``plan``.

    A :class:`~vfl.models.top.TopModel` mixes after its first affine layer (same
    result, far fewer FLOPs); any other module gets the mixed embeddings.
    """
    if isinstance(top, TopModel):
        return top(embeddings, mixing=mixing_matrix(plan, embeddings[0].shape[0]))
    return top(mix(embeddings, plan))
