"""Boundary shrinking (Chen et al., "Boundary Unlearning", CVPR 2023), in embedding space.

The original attacks each forget sample's *input* to find its nearest wrong
class, then fine-tunes the sample toward that class, which shrinks the
forgotten class's region into its neighbours. In VFL the input is split across
passive parties and only the active party may look at labels, so the attack
runs where both meet: on the embeddings, at the active party. Passive parties
see what they see in any request -- sample IDs and embedding gradients.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vfl.party.active import ActiveParty, Objective
from vfl.unlearning.base import UnlearningContext
from vfl.unlearning.fewshot import FewShotMethod, FewShotSets
from vfl.unlearning.objectives import identity_plan, mixup_objective

__all__ = ["BoundaryShrink", "nearest_wrong_classes"]

ATTACK_STEPS = 5
STEP_SIZE = 0.1
"""Per step, each embedding moves by this fraction of its party's mean |value|."""


def nearest_wrong_classes(
    active: ActiveParty, embeddings: list[torch.Tensor], labels: torch.Tensor
) -> torch.Tensor:
    """The wrong class each row's embeddings reach under a few signed-gradient steps.

    Steps are scaled per party (embeddings of different bottom models differ in
    scale). After the attack the true class is masked out, so every row gets a
    wrong class even if the attack did not cross the boundary.
    """

    def loss(top: nn.Module, e: list[torch.Tensor]) -> torch.Tensor:
        return F.cross_entropy(top(e), labels)

    points = [e.detach() for e in embeddings]
    sizes = [STEP_SIZE * e.abs().mean() for e in points]
    for _ in range(ATTACK_STEPS):
        grads = active.embedding_gradients(points, loss)
        points = [e + size * g.sign() for e, g, size in zip(points, grads, sizes, strict=True)]
    logits = active.logits(points)
    logits[torch.arange(labels.numel()), labels] = float("-inf")
    return logits.argmax(1)


class BoundaryShrink(FewShotMethod):
    """Train the few-shot forget samples toward their nearest wrong class."""

    name = "boundary-shrink"
    summary = (
        "boundary shrinking: train forget samples toward the nearest wrong class (embedding attack)"
    )

    def forget_objective(
        self, ctx: UnlearningContext, sets: FewShotSets, rng: np.random.Generator
    ) -> Objective:
        co = ctx.coordinator
        targets = nearest_wrong_classes(
            co.active, co.embed(sets.forget_ids, train=False), sets.forget_labels
        )
        return mixup_objective(identity_plan(targets), ascent=False)
