"""The active party's top model: concatenated embeddings -> class logits."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["TopModel"]


class TopModel(nn.Module):
    """Concatenate every party's embedding (in party order) and apply an MLP.

    It has no BatchNorm, so unlearning batches made only of forget samples
    cannot shift statistics on the active side.
    """

    def __init__(self, embed_dims: Sequence[int], num_classes: int, hidden: int = 128) -> None:
        super().__init__()
        self.embed_dims = list(embed_dims)
        self.net = nn.Sequential(
            nn.Linear(sum(self.embed_dims), hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, embeddings: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.net(torch.cat(list(embeddings), dim=1))

    def penultimate(self, embeddings: Sequence[torch.Tensor]) -> torch.Tensor:
        """Hidden activations before the classifier (for forgetting-depth probes)."""
        return self.net[:2](torch.cat(list(embeddings), dim=1))
