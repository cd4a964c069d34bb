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

    def forward(
        self, embeddings: Sequence[torch.Tensor], mixing: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Class logits; with ``mixing``, the logits of the mixed rows ``mixing @ cat(embeddings)``.

        ``mixing`` is an ``[m, n]`` matrix whose rows each sum to one (a mixup plan).
        Such a mix commutes with the first affine layer --
        ``W (M x) + b = M (W x + b)`` when every row of ``M`` sums to one -- so it is
        applied to that layer's ``n`` outputs rather than fed ``m`` mixed inputs.
        LUV mixes 40 samples into 2340 rows; this way the widest matmul runs on 40.
        Autograd still gives the exact chain rule back to every embedding.
        """
        return self.net[2:](self._hidden(embeddings, mixing))

    def penultimate(
        self, embeddings: Sequence[torch.Tensor], mixing: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Hidden activations before the classifier (for forgetting-depth probes)."""
        return self._hidden(embeddings, mixing)

    def _hidden(
        self, embeddings: Sequence[torch.Tensor], mixing: torch.Tensor | None
    ) -> torch.Tensor:
        pre = self.net[0](torch.cat(list(embeddings), dim=1))
        if mixing is not None:
            pre = mixing @ pre
        return self.net[1](pre)
