"""The active side of the party protocol: one client, many links.

The coordinator holds :class:`PassivePartyClient` objects. A client turns each
method into protocol requests and hands them to its :class:`PartyLink`, the only
thing a transport implements: ``call(requests) -> responses``. In-process, gRPC
and Flower links just move the messages; recording is middleware, a link that
wraps another (:class:`RecordingLink`). The client checks every response against
the request that asked for it, so a confused or hostile party is caught in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from vfl.data.tables import SampleIndex
from vfl.errors import ProtocolError
from vfl.party.optim import UpdateConfig
from vfl.party.passive import PartyInfo, PassiveParty
from vfl.protocol import messages as m
from vfl.protocol.dispatch import dispatch
from vfl.protocol.fields import fields_of, from_parts, to_parts

MAX_EMBEDDING_ABS = 1e6
"""The largest embedding value the active party accepts. A trained bottom model's
outputs stay within the tens; beyond a million, the squares in a float32 loss
are on their way to overflow, so such an answer is a broken or hostile party."""

__all__ = [
    "MAX_EMBEDDING_ABS",
    "InProcessClient",
    "InProcessLink",
    "PartyLink",
    "PassivePartyClient",
    "RecordedCall",
    "RecordingClient",
    "RecordingLink",
]


class PartyLink(Protocol):
    """How requests reach one passive party and its responses come back."""

    def call(self, requests: Sequence[m.Request]) -> list[m.Response]: ...
    def close(self) -> None: ...


class PassivePartyClient:
    """Everything the active side may ask of the passive party ``party_id``."""

    def __init__(self, party_id: str, link: PartyLink) -> None:
        self.party_id = party_id
        self.link = link

    def call(self, *requests: m.Request) -> list[m.Response]:
        """Send ``requests`` in one batch; each response is checked against its request."""
        responses = self.link.call(list(requests))
        if len(responses) != len(requests):
            raise ProtocolError(f"party {self.party_id} answered a different batch")
        for request, response in zip(requests, responses, strict=True):
            if not isinstance(response, request.response):
                raise ProtocolError(
                    f"party {self.party_id} answered {request.op} with {response.op}"
                )
        return responses

    def ask(self, request: m.Request) -> Any:
        return self.call(request)[0]

    # -- the operations, by name ---------------------------------------------
    def info(self) -> PartyInfo:
        return self.ask(m.Info()).to_info()

    def embed(self, ids: np.ndarray, train: bool) -> torch.Tensor:
        """Embeddings of ``ids``; ``train`` keeps the party's graph for :meth:`backward`."""
        return self._embeddings(self.ask(m.Embed(ids, bool(train))), ids)

    def backward(self, ids: np.ndarray, grad: torch.Tensor) -> None:
        """Send d(loss)/d(embeddings) for the IDs of the last training embed."""
        self.ask(m.Backward(ids, grad))

    def backward_and_embed(
        self, ids: np.ndarray, grad: torch.Tensor, next_ids: np.ndarray, train: bool
    ) -> torch.Tensor:
        """:meth:`backward`, then :meth:`embed` of ``next_ids``, in one batch (one round trip).

        The party checks both before applying either (:func:`~vfl.protocol.dispatch.dispatch`).
        """
        _, emb = self.call(m.Backward(ids, grad), m.Embed(next_ids, bool(train)))
        return self._embeddings(emb, next_ids)

    def configure(self, update: UpdateConfig) -> None:
        self.ask(m.Configure(update))

    def reinitialize(self, seed: int) -> None:
        self.ask(m.Reinitialize(int(seed)))

    # trials: scratch copies (never a version)
    def open_trial(self, token: str) -> None:
        self.ask(m.OpenTrial(token))

    def keep_trial(self, token: str) -> None:
        self.ask(m.KeepTrial(token))

    def undo_trial(self, token: str) -> None:
        self.ask(m.UndoTrial(token))

    # requests: versions by two-phase commit
    def begin(self, token: str, fence: str = "") -> None:
        self.ask(m.Begin(token, fence))

    def prepare(self, token: str) -> tuple[int, str]:
        """Phase one: durably hold the next version; ``(version, digest)``."""
        reply = self.ask(m.Prepare(token))
        return reply.version, reply.digest

    def commit(self, token: str) -> int:
        """Phase two: the prepared candidate becomes the new version; return it."""
        return self.ask(m.Commit(token)).version

    def abort(self, token: str) -> None:
        self.ask(m.Abort(token))

    def rollback(self, version: int, fence: str = "") -> int:
        """Make a committed version the party still holds current again (``vfl repair``)."""
        return self.ask(m.Rollback(int(version), fence)).version

    # -- alignment (the PSI server side runs at the party) -------------------------
    def align_begin(self, session: str, peer_size: int) -> tuple[int, int]:
        """``(the party's set size, its number of SETUP chunks)``."""
        reply = self.ask(m.AlignBegin(session, int(peer_size)))
        return reply.size, reply.chunks

    def align_setup_chunk(self, session: str, index: int) -> bytes:
        return self.ask(m.AlignSetupChunk(session, int(index))).data

    def align_request(self, session: str, chunk: bytes) -> bytes:
        return self.ask(m.AlignRequest(session, chunk)).data

    def align_reveal(self, session: str, chunk: bytes, last: bool) -> int:
        return self.ask(m.AlignReveal(session, chunk, bool(last))).shared

    def set_index(self, session: str, index: SampleIndex, fence: str = "") -> None:
        self.ask(m.SetIndex(session, index.train, index.test, fence, index.score))

    def close(self) -> None:
        self.link.close()

    def _embeddings(self, reply: m.Embeddings, ids: np.ndarray) -> torch.Tensor:
        """The party's embeddings, refused unless they have one finite, bounded row per ID.

        The active party must not trust them: a party answering 3e38 once had a
        training and an unlearning request committed at 10 % accuracy.
        """
        emb = reply.embeddings
        if emb.ndim != 2 or emb.shape[0] != len(ids):
            raise ProtocolError(
                f"party {self.party_id} sent {list(emb.shape)} embeddings for {len(ids)} IDs"
            )
        if emb.numel() == 0:
            return emb
        low, high = (float(v) for v in torch.aminmax(emb))  # one pass; NaN propagates
        if low >= -MAX_EMBEDDING_ABS and high <= MAX_EMBEDDING_ABS:  # False for NaN too
            return emb
        if not bool(torch.isfinite(emb).all()):  # only on the way to refusing
            raise ProtocolError(f"party {self.party_id} sent non-finite embeddings (NaN or inf)")
        raise ProtocolError(
            f"party {self.party_id} sent an embedding of magnitude {max(-low, high):.3g}; "
            f"the limit is {MAX_EMBEDDING_ABS:.0e}"
        )


def copied(msg: m.Message) -> m.Message:
    """``msg`` rebuilt from copies of its parts, checked as a wire decode would check it."""
    scalars, arrays = to_parts(msg)
    return from_parts(type(msg), scalars, {k: np.array(v, copy=True) for k, v in arrays.items()})


class InProcessLink:
    """Calls a :class:`PassiveParty` in this process, copying every message both ways.

    The copies make it behave like a wire: neither side can alias the other's
    memory or autograd graph, and requests are checked exactly as decoded ones.
    """

    def __init__(self, party: PassiveParty) -> None:
        self.party = party

    def call(self, requests: Sequence[m.Request]) -> list[m.Response]:
        responses = dispatch(self.party, [copied(r) for r in requests])  # type: ignore[misc]
        return [copied(r) for r in responses]  # type: ignore[misc]

    def close(self) -> None:
        """Nothing to release."""


class InProcessClient(PassivePartyClient):
    """A client for a party in this process (simulations, tests, benchmarks)."""

    def __init__(self, party: PassiveParty) -> None:
        super().__init__(party.party_id, InProcessLink(party))
        self._party = party

    @property
    def party(self) -> PassiveParty:
        """The party object itself: simulations save and load its state (shadow models)."""
        return self._party


@dataclass(frozen=True)
class RecordedCall:
    """One request as the party received it: its operation name and field values."""

    method: str
    args: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, request: m.Request) -> RecordedCall:
        args = {}
        for f in fields_of(type(request)):
            value = getattr(request, f.name)
            if isinstance(value, torch.Tensor):
                value = value.detach().clone()
            elif isinstance(value, np.ndarray):
                value = np.array(value, copy=True)
            args[f.name] = value
        return cls(request.op, args)


class RecordingLink:
    """Middleware: records every request that reaches the party, then forwards it.

    This is the passive party's-eye view of a session: privacy tests assert on
    it, and the audits' attacks use nothing else.
    """

    def __init__(self, inner: PartyLink) -> None:
        self.inner = inner
        self.calls: list[RecordedCall] = []

    def call(self, requests: Sequence[m.Request]) -> list[m.Response]:
        self.calls += [RecordedCall.of(r) for r in requests]
        return self.inner.call(requests)

    def close(self) -> None:
        self.inner.close()


class RecordingClient(PassivePartyClient):
    """``inner`` with a :class:`RecordingLink` in front of its link."""

    def __init__(self, inner: PassivePartyClient) -> None:
        self.recorder = RecordingLink(inner.link)
        super().__init__(inner.party_id, self.recorder)
        self.inner = inner

    @property
    def calls(self) -> list[RecordedCall]:
        return self.recorder.calls
