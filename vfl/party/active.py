"""The active party: labels and the top model.

It turns the passive parties' embeddings into a loss -- plain cross-entropy
in training, mixup objectives in unlearning -- and hands back only
d(loss)/d(embedding) for each party. The objective is any function of the top
model and the embedding tensors; autograd gives the exact chain rule through
whatever mixing it does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vfl.data.base import LabelShard
from vfl.data.tables import LabelTable, SampleIndex
from vfl.errors import ProtocolError
from vfl.models.top import build_top_model
from vfl.party.optim import UpdateConfig, build_optimizer, set_training
from vfl.party.versioned import VersionedModel
from vfl.seeding import seeded

__all__ = ["ActiveParty", "Objective", "StepResult"]

Objective = Callable[[nn.Module, list[torch.Tensor]], torch.Tensor]
"""``objective(top_model, embeddings) -> scalar loss`` to minimise."""


@dataclass(frozen=True)
class StepResult:
    loss: float
    grads: list[torch.Tensor]


class ActiveParty(VersionedModel):
    """The label holder: labels by sample ID and the top model."""

    def __init__(
        self,
        labels: LabelShard | LabelTable,
        embed_dims: Sequence[int],
        hidden: int = 128,
        seed: int = 0,
        top: str | Callable[..., nn.Module] | None = None,
    ) -> None:
        """From an aligned ``LabelShard``, or a ``LabelTable`` that stays unaligned until
        :meth:`set_index` (unless it carries its index, as the built-in datasets do).

        ``top`` is the user's own top model (:mod:`vfl.models.custom`); None: the built-in."""
        super().__init__()
        self.table = labels if isinstance(labels, LabelTable) else None
        self._labels = None if self.table else labels
        self.sample_index: SampleIndex | None = None
        self.num_classes = labels.num_classes
        self._embed_dims = list(embed_dims)
        self._hidden = hidden
        self._top = top
        self.reinitialize(seed)
        if self.table is not None and self.table.index is not None:
            self.set_index(self.table.index)

    @property
    def labels(self) -> LabelShard:
        if self._labels is None:
            raise ProtocolError("the federation is not aligned yet: run `vfl align` first")
        return self._labels

    @property
    def aligned(self) -> bool:
        return self._labels is not None

    def set_index(self, index: SampleIndex) -> None:
        """Labels by wire position of the federation's index (train then test)."""
        if self.table is None:
            raise ProtocolError("the active party was built from a fixed shard; it does not align")
        with self._lock:
            self._labels = self.table.shard(index)
            self.sample_index = index
            if self.durable is not None:
                self.durable.save_index(index)

    def resume_index(self, index: SampleIndex) -> None:
        self.set_index(index)

    def reinitialize(self, seed: int) -> None:
        with self._lock:
            with seeded(seed):
                self.model = build_top_model(
                    self._embed_dims, self.num_classes, self._hidden, self._top
                )
            self.configure(UpdateConfig())

    def configure(self, update: UpdateConfig) -> None:
        with self._lock:
            self._update = update
            self._optimizer = build_optimizer(list(self.model.parameters()), update)

    def labels_of(self, ids: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(self.labels.labels_of(ids))

    def step(self, embeddings: Sequence[torch.Tensor], objective: Objective) -> StepResult:
        """One optimizer step of the top model; return the loss and embedding gradients."""
        with self._lock:
            leaves = [e.detach().requires_grad_(True) for e in embeddings]
            set_training(self.model, True)
            loss = objective(self.model, leaves)
            self._optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self._optimizer.step()
            grads = [
                leaf.grad if leaf.grad is not None else torch.zeros_like(leaf) for leaf in leaves
            ]
            return StepResult(float(loss.detach()), grads)

    def embedding_gradients(
        self, embeddings: Sequence[torch.Tensor], objective: Objective
    ) -> list[torch.Tensor]:
        """d(objective)/d(each embedding) with the top model left as it is (no step).

        For attacks in embedding space, such as boundary shrinking's search for
        each sample's nearest wrong class.
        """
        with self._lock:
            leaves = [e.detach().requires_grad_(True) for e in embeddings]
            set_training(self.model, False)
            return list(torch.autograd.grad(objective(self.model, leaves), leaves))

    def logits(self, embeddings: Sequence[torch.Tensor]) -> torch.Tensor:
        with self._lock, torch.no_grad():
            set_training(self.model, False)
            return self.model(list(embeddings))

    def penultimate(self, embeddings: Sequence[torch.Tensor]) -> torch.Tensor:
        with self._lock, torch.no_grad():
            set_training(self.model, False)
            return self.model.penultimate(list(embeddings))
