"""The passive-party client over gRPC: the same interface as the in-process one.

The coordinator cannot tell it from :class:`~vfl.party.client.InProcessClient`.
Every :class:`grpc.RpcError` is converted in :meth:`GrpcPassiveClient._call`
into a :class:`~vfl.grpc.errors.RemoteCallError`; nothing above this module
sees a raw gRPC error. One channel per party is opened once and reused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import grpc
from vfl.grpc import serde
from vfl.grpc.errors import RemoteCallError, from_rpc_error
from vfl.grpc.health import wait_healthy
from vfl.grpc.proto import passive_pb2 as pb
from vfl.grpc.proto.passive_pb2_grpc import PassivePartyStub
from vfl.grpc.server import DEFAULT_MAX_MESSAGE_BYTES, grpc_options
from vfl.grpc.tls import TLSConfig
from vfl.party.client import PassivePartyClient
from vfl.party.optim import UpdateConfig
from vfl.party.passive import PartyInfo

__all__ = ["GrpcPassiveClient"]


class GrpcPassiveClient(PassivePartyClient):
    """Talks to the passive party ``party_id`` served at ``target``.

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
        self.party_id = party_id
        self.target = target
        self._peer = f"party {party_id} at {target}"
        self._timeout = timeout
        self._channel = tls.open_channel(target, party_id, grpc_options(max_message_bytes))
        self._stub = PassivePartyStub(self._channel)
        self._fused = True

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self._stub, method)(request, timeout=self._timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, self._peer) from None

    def wait_ready(self, timeout: float = 60.0) -> None:
        wait_healthy(self._channel, timeout, self._peer)

    def info(self) -> PartyInfo:
        return serde.info_from_proto(self._call("Info", pb.InfoRequest()))

    def embed(self, ids: np.ndarray, train: bool) -> torch.Tensor:
        reply = self._call("Embed", _embed_request(ids, train))
        return serde.decode_float(reply.embeddings, "embeddings")

    def backward(self, ids: np.ndarray, grad: torch.Tensor) -> None:
        self._call("Backward", _backward_request(ids, grad))

    def backward_and_embed(
        self, ids: np.ndarray, grad: torch.Tensor, next_ids: np.ndarray, train: bool
    ) -> torch.Tensor:
        """One ``BackwardEmbed`` call: a training step costs one round trip, not two.

        A party from before ``BackwardEmbed`` answers UNIMPLEMENTED without
        touching its model; from then on this client makes the two calls.
        """
        if self._fused:
            request = pb.BackwardEmbedRequest(
                backward=_backward_request(ids, grad), embed=_embed_request(next_ids, train)
            )
            try:
                reply = self._call("BackwardEmbed", request)
                return serde.decode_float(reply.embeddings, "embeddings")
            except RemoteCallError as exc:
                if exc.code != grpc.StatusCode.UNIMPLEMENTED:
                    raise
                self._fused = False
        return super().backward_and_embed(ids, grad, next_ids, train)

    def configure(self, update: UpdateConfig) -> None:
        self._call("Configure", pb.ConfigureRequest(update=serde.update_to_proto(update)))

    def reinitialize(self, seed: int) -> None:
        self._call("Reinitialize", pb.ReinitializeRequest(seed=seed))

    def snapshot(self, token: str) -> None:
        self._call("Snapshot", pb.TokenRequest(token=token))

    def restore(self, token: str) -> None:
        self._call("Restore", pb.TokenRequest(token=token))

    def commit(self, token: str) -> int:
        return int(self._call("Commit", pb.TokenRequest(token=token)).version)

    def prepare(self, token: str) -> tuple[int, str]:
        reply = self._call("Prepare", pb.TokenRequest(token=token))
        return int(reply.version), reply.digest

    def rollback(self, version: int) -> int:
        return int(self._call("Rollback", pb.RollbackRequest(version=version)).version)

    def close(self) -> None:
        self._channel.close()


def _embed_request(ids: np.ndarray, train: bool) -> pb.EmbedRequest:
    return pb.EmbedRequest(ids=serde.encode_tensor(ids), train=train)


def _backward_request(ids: np.ndarray, grad: torch.Tensor) -> pb.BackwardRequest:
    return pb.BackwardRequest(ids=serde.encode_tensor(ids), grad=serde.encode_tensor(grad))
