"""Mixup plans and the exact gradient routing through them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vfl.data.base import LabelShard
from vfl.party.active import ActiveParty
from vfl.unlearning import all_pairs_plan, mix, mixup_objective, partner_plan
from vfl.unlearning.mixup import mixed_logits


def test_all_pairs_plan_covers_every_within_class_pair_once_per_lambda() -> None:
    labels = torch.tensor([3, 3, 3, 3, 5, 5, 5])
    plan = all_pairs_plan(labels, (0.25, 0.5, 0.75))
    # class 3: 4*3/2 = 6 pairs, class 5: 3 pairs -> 9 pairs x 3 lambdas
    assert len(plan) == 27
    assert (plan.left < plan.right).all()
    assert (labels[plan.left] == labels[plan.right]).all()
    assert torch.equal(plan.labels, labels[plan.left])
    pairs = {
        (int(a), int(b), float(lam))
        for a, b, lam in zip(plan.left, plan.right, plan.lam, strict=True)
    }
    assert len(pairs) == 27


def test_partner_plan_mixes_only_within_class() -> None:
    labels = torch.tensor([0, 0, 1, 1, 1, 2])
    plan = partner_plan(labels, alpha=1.0, rng=np.random.default_rng(0))
    assert torch.equal(labels[plan.left], labels[plan.right])
    assert ((plan.lam >= 0) & (plan.lam <= 1)).all()


def _hand_chain_rule(embeddings: list[torch.Tensor], plan, top, sign: float) -> list[torch.Tensor]:
    """dL/dE[i] = sum over rows using i of lam (left) or 1-lam (right) times dL/dmixed[row]."""
    mixed = [
        (plan.lam[:, None] * e[plan.left] + (1 - plan.lam[:, None]) * e[plan.right])
        .detach()
        .requires_grad_()
        for e in embeddings
    ]
    loss = sign * F.cross_entropy(top(mixed), plan.labels)
    row_grads = torch.autograd.grad(loss, mixed)
    out = []
    for e, g in zip(embeddings, row_grads, strict=True):
        acc = torch.zeros_like(e)
        acc.index_add_(0, plan.left, plan.lam[:, None] * g)
        acc.index_add_(0, plan.right, (1 - plan.lam[:, None]) * g)
        out.append(acc)
    return out


@pytest.mark.parametrize("parties", [1, 2, 3])
@pytest.mark.parametrize("ascent", [True, False])
def test_gradients_sent_to_parties_equal_the_hand_computed_chain_rule(
    parties: int, ascent: bool
) -> None:
    torch.manual_seed(0)
    labels = LabelShard(np.arange(6), np.arange(6, 8), np.array([1, 1, 1, 2, 2, 0, 0, 0]), 3)
    active = ActiveParty(labels, [4] * parties, hidden=8, seed=1)
    embeddings = [torch.randn(5, 4) for _ in range(parties)]
    plan = all_pairs_plan(torch.tensor([1, 1, 1, 2, 2]), (0.25, 0.5, 0.75))
    expected = _hand_chain_rule(embeddings, plan, active.model, -1.0 if ascent else 1.0)
    result = active.step(embeddings, mixup_objective(plan, ascent=ascent))
    for got, want in zip(result.grads, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)


def test_ce_cap_stops_gradient_of_already_forgotten_rows() -> None:
    labels = LabelShard(np.arange(4), np.arange(4, 5), np.array([0, 0, 0, 0, 1]), 2)
    active = ActiveParty(labels, [3], hidden=4, seed=0)
    embeddings = [torch.randn(4, 3)]
    plan = all_pairs_plan(torch.zeros(4, dtype=torch.long), (0.5,))
    result = active.step(embeddings, mixup_objective(plan, ascent=True, ce_cap=1e-6))
    assert all(torch.count_nonzero(g) == 0 for g in result.grads)


def test_mix_is_vectorised_per_party() -> None:
    e = [torch.arange(6, dtype=torch.float32).reshape(3, 2)]
    plan = all_pairs_plan(torch.tensor([0, 0, 0]), (0.5,))
    mixed = mix(e, plan)[0]
    assert mixed.shape == (3, 2)
    torch.testing.assert_close(mixed[0], (e[0][0] + e[0][1]) / 2)


@pytest.mark.parametrize("parties", [1, 3])
def test_mixing_after_the_first_layer_gives_the_logits_of_the_mixed_embeddings(
    parties: int,
) -> None:
    torch.manual_seed(0)
    top = ActiveParty(
        LabelShard(np.arange(2), np.arange(2, 3), np.array([0, 1, 1]), 2), [4] * parties, 8
    ).model
    embeddings = [torch.randn(6, 4) for _ in range(parties)]
    plan = partner_plan(torch.tensor([0, 0, 0, 1, 1, 1]), 1.0, np.random.default_rng(0))
    want = top(mix(embeddings, plan))
    torch.testing.assert_close(mixed_logits(top, embeddings, plan), want)
    assert not torch.allclose(want, top(embeddings))  # the plan does mix
