"""The passive-party link over gRPC: one ``Call`` RPC carries a batch of protocol requests.

A :class:`GrpcPassiveClient` is a :class:`~vfl.protocol.client.PassivePartyClient`
whose link is a :class:`GrpcLink`; the coordinator cannot tell it from the
in-process one. Every :class:`grpc.RpcError` is converted in
:meth:`GrpcLink.call` into a :class:`~vfl.grpc.errors.RemoteCallError`;
nothing above this module sees a raw gRPC error. One channel per party is
opened once and reused.

Every call has a deadline chosen by what it asks (:class:`CallDeadlines`): a
version query or an abort must not wait minutes on a hung party, or the
operator's own deadline (60 s in the CLI) expires first and the answer names
the coordinator instead of the party.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
from pydantic import BaseModel, ConfigDict, Field

from vfl.grpc import serde
from vfl.grpc.errors import PartyUnavailableError, from_rpc_error
from vfl.grpc.health import wait_healthy
from vfl.grpc.proto.passive_pb2_grpc import PassivePartyStub
from vfl.grpc.server import DEFAULT_MAX_MESSAGE_BYTES, grpc_options
from vfl.grpc.tls import TLSConfig
from vfl.protocol.client import PassivePartyClient
from vfl.protocol.messages import Request, Response

__all__ = ["CallDeadlines", "GrpcLink", "GrpcPassiveClient"]


class CallDeadlines(BaseModel):
    """Seconds a call to a passive party may take, by the kind of work it asks for.

    A party that misses one counts as hung (``DEADLINE_EXCEEDED``, naming it).
    The quick kind must stay far below the operator's deadline, so ``vfl
    status`` answers and names the party; the others bound work that can
    legitimately take long. A batch takes the longest of its requests' deadlines.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    quick: float = Field(5.0, gt=0, le=3600)
    """Version and digest queries, begin, abort, trials, configure, re-initialise:
    in-memory work (a copy or a hash of the weights)."""
    step: float = Field(60.0, gt=0, le=3600)
    """One batch's embeddings and gradients (up to 65 536 rows through the bottom model)."""
    disk: float = Field(30.0, gt=0, le=3600)
    """Prepare, commit and rollback: a checkpoint written (with fsync) or read."""
    align: float = Field(600.0, gt=0, le=86_400)
    """Private set intersection rounds: modular exponentiations over every ID a party holds."""

    def of(self, requests: Sequence[Request]) -> float:
        """The deadline of one batch: the longest of its requests'."""
        return max((getattr(self, _KIND.get(r.op, "quick")) for r in requests), default=self.quick)


_KIND = {
    "embed": "step",
    "backward": "step",
    "prepare": "disk",
    "commit": "disk",
    "rollback": "disk",
    "align_begin": "align",
    "align_setup_chunk": "align",
    "align_request": "align",
    "align_reveal": "align",
    "set_index": "align",
}
"""Operations that are not ``quick`` (every other one is)."""


class GrpcLink:
    """Moves protocol batches to the party ``party_id`` served at ``target``.

    With TLS, the server must present a certificate for ``party_id`` -- the
    active party never sends embeddings' gradients to an impostor.
    """

    def __init__(
        self,
        party_id: str,
        target: str,
        tls: TLSConfig,
        deadlines: CallDeadlines | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        timeout: float | None = None,
    ) -> None:
        """``timeout``, if given, is every call's deadline (tests); else ``deadlines``."""
        self.target = target
        self.peer = f"party {party_id} at {target}"
        self.deadlines = deadlines or CallDeadlines()
        self._timeout = timeout
        self.channel = tls.open_channel(target, party_id, grpc_options(max_message_bytes))
        self._stub = PassivePartyStub(self.channel)

    def call(self, requests: Sequence[Request]) -> list[Response]:
        timeout = self._timeout or self.deadlines.of(requests)
        try:
            reply = self._stub.Call(serde.encode_call(requests), timeout=timeout)
        except grpc.RpcError as exc:
            if isinstance(exc, grpc.Call) and exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                ops = "+".join(r.op for r in requests)
                raise PartyUnavailableError(
                    f"{self.peer} did not answer {ops} within {timeout:g} s: hung, "
                    "overloaded or cut off? (DEADLINE_EXCEEDED)",
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                ) from None
            raise from_rpc_error(exc, self.peer) from None
        return serde.decode_results(reply)

    def close(self) -> None:
        self.channel.close()


class GrpcPassiveClient(PassivePartyClient):
    """A client for the passive party ``party_id`` at ``target`` (see :class:`GrpcLink`)."""

    def __init__(self, party_id: str, target: str, tls: TLSConfig, **options: Any) -> None:
        """``options``: :class:`GrpcLink`'s ``deadlines``, ``timeout`` and ``max_message_bytes``."""
        self.grpc = GrpcLink(party_id, target, tls, **options)
        super().__init__(party_id, self.grpc)
        self.target = target

    def wait_ready(self, timeout: float = 60.0) -> None:
        wait_healthy(self.grpc.channel, timeout, self.grpc.peer)
