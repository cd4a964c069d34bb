"""Snapshot, restore, commit and digest: the versioning every party shares.

Unlearning is all-or-nothing across parties, so each party can keep a copy of
its state under a request's token, go back to it (abort), or drop it and move
to the next version (commit).
"""

from __future__ import annotations

import threading
from abc import ABC
from typing import Any

import torch
from torch import nn

from vfl.errors import ProtocolError
from vfl.party.state import clone_state, state_digest

__all__ = ["VersionedModel"]


class VersionedModel(ABC):
    """Base for parties: subclasses set ``model`` and ``_optimizer``."""

    model: nn.Module
    _optimizer: torch.optim.Optimizer

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._snapshots: dict[str, dict[str, Any]] = {}
        self.version = 0

    def state_dict(self) -> dict[str, Any]:
        """Weights and optimizer state: everything a checkpoint must hold."""
        with self._lock:
            return {"model": self.model.state_dict(), "optimizer": self._optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with self._lock:
            self.model.load_state_dict(state["model"])
            self._optimizer.load_state_dict(state["optimizer"])
            self._on_state_loaded()

    def _on_state_loaded(self) -> None:  # noqa: B027  (optional hook)
        """Hook for subclasses that cache anything derived from the weights."""

    def digest(self) -> str:
        """Digest of the model weights (optimizer state excluded: it is not the model)."""
        with self._lock:
            return state_digest(self.model.state_dict())

    def snapshot(self, token: str) -> None:
        """Keep a copy of the current state under ``token`` for :meth:`restore`."""
        with self._lock:
            self._snapshots[token] = clone_state(self.state_dict())

    def restore(self, token: str) -> None:
        """Go back to the state saved under ``token`` (and forget that snapshot)."""
        with self._lock:
            if token not in self._snapshots:
                raise ProtocolError(f"no snapshot {token!r} to restore")
            self.load_state_dict(self._snapshots.pop(token))

    @property
    def open_snapshots(self) -> int:
        """How many snapshots are held (nested requests keep one each)."""
        with self._lock:
            return len(self._snapshots)

    def commit(self, token: str) -> int:
        """Keep the current state and drop the snapshot.

        Only the outermost commit (no other snapshot left open) moves to the next
        version: a method's inner checkpoints, such as LUV's per-epoch guard, are
        part of one request and must not count as versions of their own.
        """
        with self._lock:
            if token not in self._snapshots:
                raise ProtocolError(f"no snapshot {token!r} to commit")
            del self._snapshots[token]
            if not self._snapshots:
                self.version += 1
            return self.version
