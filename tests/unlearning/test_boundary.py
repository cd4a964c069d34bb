"""Boundary shrinking's search for each forget sample's nearest wrong class."""

from __future__ import annotations

import numpy as np
import torch

from vfl.data.base import LabelShard
from vfl.party.active import ActiveParty
from vfl.unlearning.boundary import nearest_wrong_classes


def _active_with_known_boundaries() -> ActiveParty:
    """One 2-d party; class 1 sits next to class 0, class 2 is along the other axis."""
    labels = LabelShard(np.arange(3), np.arange(3, 4), np.array([0, 1, 2, 0]), 3)
    active = ActiveParty(labels, [2], hidden=2, seed=0)
    first, _, last = active.model.net
    with torch.no_grad():
        first.weight.copy_(torch.eye(2))
        first.bias.zero_()
        last.weight.copy_(torch.tensor([[1.0, 0.0], [0.9, 0.0], [0.0, 1.0]]))
        last.bias.zero_()
    return active


def test_each_sample_gets_the_wrong_class_nearest_to_it() -> None:
    active = _active_with_known_boundaries()
    embeddings = [torch.tensor([[1.0, 0.1], [0.1, 1.0], [0.95, 0.2]])]
    labels = torch.tensor([0, 2, 1])
    targets = nearest_wrong_classes(active, embeddings, labels)
    assert targets.tolist() == [1, 0, 0]


def test_the_search_leaves_the_top_model_untouched() -> None:
    active = _active_with_known_boundaries()
    before = active.digest()
    nearest_wrong_classes(active, [torch.randn(5, 2)], torch.zeros(5, dtype=torch.long))
    assert active.digest() == before
