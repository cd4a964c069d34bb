"""The active party's top model: concatenated embeddings -> class logits.

The built-in :class:`TopModel`, or the user's own (``--top-model``,
``top_model=``; contract in :mod:`vfl.models.custom`) wrapped in
:class:`CustomTopModel` so both take what the active party hands a top model:
the list of party embeddings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from vfl.errors import ConfigError
from vfl.models.custom import (
    check_output,
    describe,
    guarded_build,
    probe_batch,
    resolve_reference,
)

__all__ = ["CustomTopModel", "TopModel", "build_top_model"]

ROLE = "top model"


def build_top_model(
    embed_dims: Sequence[int],
    num_classes: int,
    hidden: int = 128,
    custom: str | Callable[..., Any] | None = None,
) -> nn.Module:
    """The built-in :class:`TopModel` (``custom`` None), or the user's, checked to map
    ``[batch, sum(embed_dims)]`` to ``[batch, num_classes]``."""
    if custom is None:
        return TopModel(embed_dims, num_classes, hidden)
    label = f"{ROLE} {describe(custom)}"
    build = resolve_reference(custom, ROLE) if isinstance(custom, str) else custom
    in_features = sum(embed_dims)
    net = guarded_build(label, lambda: build(in_features, num_classes))
    check_output(net, probe_batch((in_features,)), num_classes, label, "n_classes")
    return CustomTopModel(net, label)


class CustomTopModel(nn.Module):
    """A user's top model behind the interface the active party calls.

    ``net`` sees one tensor, the embeddings concatenated in party order; a
    mixup plan is applied to that concatenation (any module gets mixed
    inputs; only :class:`TopModel` knows the cheaper way).
    """

    def __init__(self, net: nn.Module, label: str) -> None:
        super().__init__()
        self.net = net
        self.label = label

    def forward(
        self, embeddings: Sequence[torch.Tensor], mixing: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.net(_joined(embeddings, mixing))

    def penultimate(
        self, embeddings: Sequence[torch.Tensor], mixing: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The net's own ``penultimate(x)``, else an ``nn.Sequential`` without its last module."""
        x = _joined(embeddings, mixing)
        own = getattr(self.net, "penultimate", None)
        if callable(own):
            return own(x)
        if isinstance(self.net, nn.Sequential) and len(self.net) > 1:
            return self.net[:-1](x)
        raise ConfigError(
            f"{self.label} has no penultimate layer to probe: give it a penultimate(x) method "
            "or make it an nn.Sequential whose last module is the classifier"
        )


def _joined(embeddings: Sequence[torch.Tensor], mixing: torch.Tensor | None) -> torch.Tensor:
    x = torch.cat(list(embeddings), dim=1)
    return x if mixing is None else mixing @ x


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
