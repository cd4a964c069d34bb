"""The passive-party link over gRPC: one ``Call`` RPC carries a batch of protocol requests.

A :class:`GrpcPassiveClient` is a :class:`~vfl.protocol.client.PassivePartyClient`
whose link is a :class:`GrpcLink`; the coordinator cannot tell it from the
in-process one. Every :class:`grpc.RpcError` is converted in
:meth:`GrpcLink.call` into a :class:`~vfl.grpc.errors.RemoteCallError`;
nothing above this module sees a raw gRPC error. One channel per party is
opened once and reused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from vfl.grpc import serde
from vfl.grpc.errors import from_rpc_error
from vfl.grpc.health import wait_healthy
from vfl.grpc.proto.passive_pb2_grpc import PassivePartyStub
from vfl.grpc.server import DEFAULT_MAX_MESSAGE_BYTES, grpc_options
from vfl.grpc.tls import TLSConfig
from vfl.protocol.client import PassivePartyClient
from vfl.protocol.messages import Request, Response

__all__ = ["GrpcLink", "GrpcPassiveClient"]


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
        timeout: float = 300.0,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self.target = target
        self.peer = f"party {party_id} at {target}"
        self._timeout = timeout
        self.channel = tls.open_channel(target, party_id, grpc_options(max_message_bytes))
        self._stub = PassivePartyStub(self.channel)

    def call(self, requests: Sequence[Request]) -> list[Response]:
        try:
            reply = self._stub.Call(serde.encode_call(requests), timeout=self._timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, self.peer) from None
        return serde.decode_results(reply)

    def close(self) -> None:
        self.channel.close()


class GrpcPassiveClient(PassivePartyClient):
    """A client for the passive party ``party_id`` at ``target`` (see :class:`GrpcLink`)."""

    def __init__(self, party_id: str, target: str, tls: TLSConfig, **options: Any) -> None:
        """``options``: :class:`GrpcLink`'s ``timeout`` and ``max_message_bytes``."""
        self.grpc = GrpcLink(party_id, target, tls, **options)
        super().__init__(party_id, self.grpc)
        self.target = target

    def wait_ready(self, timeout: float = 60.0) -> None:
        wait_healthy(self.grpc.channel, timeout, self.grpc.peer)
