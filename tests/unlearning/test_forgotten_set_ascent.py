"""Forgetting several classes at once ascends on the whole forgotten set, not each label."""

from __future__ import annotations

import torch
from torch import nn

from vfl.unlearning.objectives import identity_plan, mixup_objective


class Fixed(nn.Module):
    """A "top model" that returns the logits it was built with (one embedding part)."""

    def forward(self, parts: list[torch.Tensor]) -> torch.Tensor:
        return parts[0]


def _loss(logits: torch.Tensor, labels: list[int], forgotten: tuple[int, ...]) -> torch.Tensor:
    plan = identity_plan(torch.tensor(labels))
    objective = mixup_objective(plan, ascent=True, forgotten=forgotten)
    return objective(Fixed(), [logits])


def test_moving_mass_to_another_forgotten_class_gains_nothing() -> None:
    # A class-0 sample whose probability sits on class 1: with 0 and 1 both
    # forgotten, that is not forgetting; ascent on its own label would call it so.
    logits = torch.tensor([[0.0, 5.0, 0.0, 0.0]])
    own_label = _loss(logits, [0], forgotten=(0,))
    to_set = _loss(logits, [0], forgotten=(0, 1))
    p = torch.softmax(logits, 1)[0]
    assert torch.allclose(own_label, torch.log(p[0]))  # -(CE) = log p_0: already "far"
    assert torch.allclose(to_set, torch.log(p[0] + p[1]))  # still near 0: not forgotten
    assert to_set > own_label + 4


def test_one_forgotten_class_is_the_own_label_loss_exactly() -> None:
    logits = torch.randn(6, 5, generator=torch.Generator().manual_seed(0))
    labels = [2, 2, 2, 2, 2, 2]
    assert torch.equal(_loss(logits, labels, (2,)), _loss(logits, labels, ()))
