"""The transport-agnostic way to talk to a passive party.

The coordinator only ever holds :class:`PassivePartyClient` objects. This
module ships the in-process implementation; the gRPC and Flower transports
implement the same interface, so training and unlearning code never changes.
Nothing in this interface can carry a label, a class id or a loss.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from vfl.errors import ProtocolError
from vfl.party.optim import UpdateConfig
from vfl.party.passive import PartyInfo, PassiveParty

__all__ = ["InProcessClient", "PassivePartyClient", "RecordedCall", "RecordingClient"]


class PassivePartyClient(ABC):
    """Everything the active side may ask of a passive party."""

    party_id: str

    @abstractmethod
    def info(self) -> PartyInfo: ...

    @abstractmethod
    def embed(self, ids: np.ndarray, train: bool) -> torch.Tensor:
        """Embeddings of ``ids``; ``train`` keeps the party's graph for :meth:`backward`."""

    @abstractmethod
    def backward(self, ids: np.ndarray, grad: torch.Tensor) -> None:
        """Send d(loss)/d(embeddings) for the IDs of the last training embed."""

    def backward_and_embed(
        self, ids: np.ndarray, grad: torch.Tensor, next_ids: np.ndarray, train: bool
    ) -> torch.Tensor:
        """:meth:`backward`, then :meth:`embed` of ``next_ids``.

        The coordinator sends each step's gradient this way, with the next
        embed, so a transport that can carry both in one message saves a round
        trip per step. This default makes the two calls.
        """
        self.backward(ids, grad)
        return self.embed(next_ids, train)

    @abstractmethod
    def configure(self, update: UpdateConfig) -> None: ...

    @abstractmethod
    def reinitialize(self, seed: int) -> None: ...

    @abstractmethod
    def snapshot(self, token: str) -> None: ...

    @abstractmethod
    def restore(self, token: str) -> None: ...

    @abstractmethod
    def commit(self, token: str) -> int: ...

    def prepare(self, token: str) -> tuple[int, str]:
        """Two-phase commit, phase one: durably hold the next version; ``(version, digest)``."""
        raise ProtocolError(f"{type(self).__name__} does not support two-phase commit")

    def rollback(self, version: int) -> int:
        """Make a committed version the party still holds current again (``vfl repair``)."""
        raise ProtocolError(f"{type(self).__name__} cannot roll back")

    def close(self) -> None:  # noqa: B027  (optional for transports without resources)
        """Release connections; the in-process client has none."""


class InProcessClient(PassivePartyClient):
    """Calls a :class:`PassiveParty` in this process, copying tensors both ways.

    The copies make it behave like a wire: neither side can alias the other's
    memory or autograd graph.
    """

    def __init__(self, party: PassiveParty) -> None:
        self._party = party
        self.party_id = party.party_id

    def info(self) -> PartyInfo:
        return self._party.info()

    def embed(self, ids: np.ndarray, train: bool) -> torch.Tensor:
        return self._party.embed(np.array(ids, copy=True), train).clone()

    def backward(self, ids: np.ndarray, grad: torch.Tensor) -> None:
        self._party.backward(np.array(ids, copy=True), grad.detach().clone())

    def backward_and_embed(
        self, ids: np.ndarray, grad: torch.Tensor, next_ids: np.ndarray, train: bool
    ) -> torch.Tensor:
        return self._party.backward_and_embed(
            np.array(ids, copy=True), grad.detach().clone(), np.array(next_ids, copy=True), train
        ).clone()

    def configure(self, update: UpdateConfig) -> None:
        self._party.configure(update)

    def reinitialize(self, seed: int) -> None:
        self._party.reinitialize(seed)

    def snapshot(self, token: str) -> None:
        self._party.snapshot(token)

    def restore(self, token: str) -> None:
        self._party.restore(token)

    def commit(self, token: str) -> int:
        return self._party.commit(token)

    def prepare(self, token: str) -> tuple[int, str]:
        return self._party.prepare(token)

    def rollback(self, version: int) -> int:
        return self._party.rollback(version)


@dataclass(frozen=True)
class RecordedCall:
    method: str
    args: dict[str, Any] = field(default_factory=dict)


class RecordingClient(PassivePartyClient):
    """Wraps any client and records every call and argument that reaches the party.

    This is the passive party's-eye view of a session: privacy tests assert
    on it, and the audits' attacks use nothing else.
    """

    def __init__(self, inner: PassivePartyClient) -> None:
        self.inner = inner
        self.party_id = inner.party_id
        self.calls: list[RecordedCall] = []

    def _record(self, method: str, **args: Any) -> None:
        self.calls.append(RecordedCall(method, args))

    def info(self) -> PartyInfo:
        self._record("info")
        return self.inner.info()

    def embed(self, ids: np.ndarray, train: bool) -> torch.Tensor:
        self._record("embed", ids=np.array(ids, copy=True), train=train)
        return self.inner.embed(ids, train)

    def backward(self, ids: np.ndarray, grad: torch.Tensor) -> None:
        self._record_backward(ids, grad)
        self.inner.backward(ids, grad)

    def backward_and_embed(
        self, ids: np.ndarray, grad: torch.Tensor, next_ids: np.ndarray, train: bool
    ) -> torch.Tensor:
        """Recorded as the two calls it is; the inner client may send them as one."""
        self._record_backward(ids, grad)
        self._record("embed", ids=np.array(next_ids, copy=True), train=train)
        return self.inner.backward_and_embed(ids, grad, next_ids, train)

    def _record_backward(self, ids: np.ndarray, grad: torch.Tensor) -> None:
        self._record("backward", ids=np.array(ids, copy=True), grad=grad.detach().clone())

    def configure(self, update: UpdateConfig) -> None:
        self._record("configure", update=update)
        self.inner.configure(update)

    def reinitialize(self, seed: int) -> None:
        self._record("reinitialize", seed=seed)
        self.inner.reinitialize(seed)

    def snapshot(self, token: str) -> None:
        self._record("snapshot", token=token)
        self.inner.snapshot(token)

    def restore(self, token: str) -> None:
        self._record("restore", token=token)
        self.inner.restore(token)

    def commit(self, token: str) -> int:
        self._record("commit", token=token)
        return self.inner.commit(token)

    def prepare(self, token: str) -> tuple[int, str]:
        self._record("prepare", token=token)
        return self.inner.prepare(token)

    def rollback(self, version: int) -> int:
        self._record("rollback", version=version)
        return self.inner.rollback(version)

    def close(self) -> None:
        self.inner.close()
