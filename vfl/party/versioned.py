"""Snapshot, prepare, restore, commit, rollback and digest: the versioning every party shares.

Unlearning is all-or-nothing across parties, so each party can keep a copy of
its state under a request's token, go back to it (abort), or drop it and move
to the next version (commit). With :class:`DurableVersions` attached (a party
process's checkpoint store), commits are two-phase: :meth:`~VersionedModel.prepare`
writes the candidate version durably, :meth:`~VersionedModel.commit` makes it
current, even after a restart in between.
"""

from __future__ import annotations

import threading
from abc import ABC
from typing import Any, Protocol

import torch
from torch import nn

from vfl.errors import ProtocolError
from vfl.party.state import clone_state, state_digest

__all__ = ["DurableVersions", "VersionedModel"]


class DurableVersions(Protocol):
    """Where committed versions and prepared candidates live (``parties.store.CheckpointStore``)."""

    def save(self, version: int, model: dict[str, Any]) -> None: ...
    def write_candidate(self, token: str, version: int, model: dict[str, Any]) -> str:
        """Durably write the candidate; return the digest of its weights."""
        ...

    def has_candidate(self, token: str) -> bool: ...
    def promote(self, token: str) -> dict[str, Any]:
        """Make the candidate current; return its checkpoint (``model``, ``version``)."""
        ...

    def discard(self, token: str) -> bool: ...
    def rollback(self, party: VersionedModel, version: int) -> None: ...


class VersionedModel(ABC):
    """Base for parties: subclasses set ``model`` and ``_optimizer``."""

    model: nn.Module
    _optimizer: torch.optim.Optimizer

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._snapshots: dict[str, dict[str, Any]] = {}
        self._prepared: set[str] = set()
        self._committed: dict[str, int] = {}  # token -> version, so a retried commit is a no-op
        self.version = 0
        self.durable: DurableVersions | None = None

    def state_dict(self) -> dict[str, Any]:
        """Weights and optimizer state: everything a checkpoint must hold."""
        with self._lock:
            return {"model": self.model.state_dict(), "optimizer": self._optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with self._lock:
            self.model.load_state_dict(state["model"])
            self._optimizer.load_state_dict(state["optimizer"])
            self._on_state_loaded()

    def load_model(self, model: dict[str, Any], version: int) -> None:
        """Become a stored checkpoint: its weights and its version."""
        with self._lock:
            self.model.load_state_dict(model)
            self.version = version
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
        """Go back to the state saved under ``token`` (and forget it and newer ones); abort.

        A prepared candidate is discarded too. A party that restarted after
        preparing holds no snapshot but still has its candidate on disk: it
        already runs its last committed version, so dropping the candidate is
        the whole abort.
        """
        with self._lock:
            dropped = self.durable is not None and self.durable.discard(token)
            self._prepared.discard(token)
            if token not in self._snapshots:
                if dropped:
                    return
                raise ProtocolError(f"no snapshot {token!r} to restore")
            nested = list(self._snapshots)[list(self._snapshots).index(token) :]
            state = self._snapshots[token]
            for inner in nested:  # snapshots taken inside an aborted request go with it
                del self._snapshots[inner]
            self.load_state_dict(state)

    @property
    def open_snapshots(self) -> int:
        """How many snapshots are held (nested requests keep one each)."""
        with self._lock:
            return len(self._snapshots)

    def prepare(self, token: str) -> tuple[int, str]:
        """Phase one: durably write the candidate next version; return ``(version, digest)``.

        Only the outermost snapshot can be prepared. The candidate is not
        current until :meth:`commit`; :meth:`restore` discards it.
        """
        with self._lock:
            if token not in self._snapshots:
                raise ProtocolError(f"no snapshot {token!r} to prepare")
            if len(self._snapshots) > 1:
                raise ProtocolError(f"cannot prepare {token!r}: an inner snapshot is still open")
            version = self.version + 1
            if self.durable is not None:  # the store hashes the weights it writes
                digest = self.durable.write_candidate(token, version, self.model.state_dict())
            else:
                digest = self.digest()
            self._prepared.add(token)
            return version, digest

    def commit(self, token: str) -> int:
        """Keep the current state and drop the snapshot.

        Only the outermost commit (no other snapshot left open) moves to the next
        version: a method's inner checkpoints, such as LUV's per-epoch guard, are
        part of one request and must not count as versions of their own. With
        durable versions, the outermost commit is on disk before it returns
        (a prepared candidate is promoted; otherwise the state is written now).
        Committing a token twice returns the same version.
        """
        with self._lock:
            if token not in self._snapshots:
                if token in self._committed:
                    return self._committed[token]
                if self.durable is not None and self.durable.has_candidate(token):
                    return self._commit_from_disk(token)
                raise ProtocolError(f"no snapshot {token!r} to commit")
            if len(self._snapshots) == 1 and self.durable is not None:
                if token in self._prepared:
                    self.durable.promote(token)
                else:
                    self.durable.save(self.version + 1, self.model.state_dict())
            del self._snapshots[token]
            self._prepared.discard(token)
            if not self._snapshots:
                self.version += 1
                self._committed = {token: self.version}
            return self.version

    def _commit_from_disk(self, token: str) -> int:
        """Roll forward after a restart: the prepared candidate becomes this party's model."""
        assert self.durable is not None
        state = self.durable.promote(token)
        self.load_model(state["model"], int(state["version"]))
        self._committed = {token: self.version}
        return self.version

    def rollback(self, version: int) -> int:
        """Make a held committed ``version`` current again (``vfl repair``)."""
        with self._lock:
            if self._snapshots:
                raise ProtocolError("cannot roll back while a request holds a snapshot")
            if version == self.version:
                return version
            if self.durable is None:
                raise ProtocolError(
                    f"this party keeps no checkpoints; it cannot go back to version {version}"
                )
            self.durable.rollback(self, version)
            self._committed = {}
            return self.version
