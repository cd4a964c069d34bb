"""The passive party process: a gRPC servicer over :class:`vfl.party.PassiveParty`.

Each handler decodes with :mod:`vfl.grpc.serde`, forwards to the party, and
encodes the answer; :func:`~vfl.grpc.errors.rpc_boundary` turns errors into
status codes. Every check happens before the party is touched, so a rejected
request leaves the model exactly as it was. Only the active party's
certificate may call it.

Test hook (tests/transactions): with ``VFL_TEST_KILL_AT_TRAIN_EMBED=N`` the
process SIGKILLs itself when its N-th training embed arrives (in ``Embed``
or ``BackwardEmbed``), before applying anything in it, so a test can kill a
party at an exact round (e.g. LUV's forget step is a request's first training
embed, its recovery step the second).
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
from pathlib import Path

import grpc
import numpy as np
import torch
from pydantic import BaseModel, ConfigDict

from parties.store import CheckpointStore
from vfl.federation import FederationSpec, build_passive_party
from vfl.grpc import serde
from vfl.grpc.errors import WireFormatError, rpc_boundary
from vfl.grpc.proto import passive_pb2 as pb
from vfl.grpc.proto import passive_pb2_grpc as pb_grpc
from vfl.grpc.server import NetworkConfig, RunningServer, run_until_signal, start_server
from vfl.grpc.tls import PeerGuard, is_active_party
from vfl.party.passive import PassiveParty

__all__ = ["PassiveServerConfig", "PassiveServicer", "serve", "start"]

log = logging.getLogger(__name__)

KILL_ENV = "VFL_TEST_KILL_AT_TRAIN_EMBED"


class PassiveServerConfig(BaseModel):
    """Everything ``vfl serve passive`` takes."""

    model_config = ConfigDict(frozen=True)

    party_id: str
    federation: FederationSpec = FederationSpec()
    network: NetworkConfig = NetworkConfig()
    state_dir: Path | None = None


class PassiveServicer(pb_grpc.PassivePartyServicer):
    def __init__(self, party: PassiveParty) -> None:
        self._party = party
        self._train_embeds = itertools.count(1)
        self._kill_at = int(os.environ.get(KILL_ENV, "0"))

    @rpc_boundary
    def Info(self, request: pb.InfoRequest, context: grpc.ServicerContext) -> pb.PartyInfo:
        return serde.info_to_proto(self._party.info())

    @rpc_boundary
    def Embed(self, request: pb.EmbedRequest, context: grpc.ServicerContext) -> pb.EmbedResponse:
        self._count_embed(request)
        embeddings = self._party.embed(serde.decode_ids(request.ids), request.train)
        return pb.EmbedResponse(embeddings=serde.encode_tensor(embeddings))

    @rpc_boundary
    def Backward(self, request: pb.BackwardRequest, context: grpc.ServicerContext) -> pb.Empty:
        self._party.backward(*self._gradient(request))
        return pb.Empty()

    @rpc_boundary
    def BackwardEmbed(
        self, request: pb.BackwardEmbedRequest, context: grpc.ServicerContext
    ) -> pb.EmbedResponse:
        self._count_embed(request.embed)
        ids, grad = self._gradient(request.backward)
        next_ids = serde.decode_ids(request.embed.ids)
        embeddings = self._party.backward_and_embed(ids, grad, next_ids, request.embed.train)
        return pb.EmbedResponse(embeddings=serde.encode_tensor(embeddings))

    def _count_embed(self, request: pb.EmbedRequest) -> None:
        if self._kill_at and request.train and next(self._train_embeds) == self._kill_at:
            os.kill(os.getpid(), signal.SIGKILL)  # the documented test hook

    def _gradient(self, request: pb.BackwardRequest) -> tuple[np.ndarray, torch.Tensor]:
        """The IDs and gradient of ``request``, shape-checked against this party's embeddings."""
        ids = serde.decode_ids(request.ids)
        grad = serde.decode_float(request.grad, "gradient")
        expected = (ids.size, self._party.embed_dim)
        if tuple(grad.shape) != expected:
            raise WireFormatError(
                f"gradient must have shape {list(expected)}, got {list(grad.shape)}"
            )
        return ids, grad

    @rpc_boundary
    def Configure(self, request: pb.ConfigureRequest, context: grpc.ServicerContext) -> pb.Empty:
        self._party.configure(serde.update_from_proto(request.update))
        return pb.Empty()

    @rpc_boundary
    def Reinitialize(
        self, request: pb.ReinitializeRequest, context: grpc.ServicerContext
    ) -> pb.Empty:
        self._party.reinitialize(request.seed)
        return pb.Empty()

    @rpc_boundary
    def Snapshot(self, request: pb.TokenRequest, context: grpc.ServicerContext) -> pb.Empty:
        self._party.snapshot(request.token)
        return pb.Empty()

    @rpc_boundary
    def Restore(self, request: pb.TokenRequest, context: grpc.ServicerContext) -> pb.Empty:
        self._party.restore(request.token)
        return pb.Empty()

    @rpc_boundary
    def Commit(self, request: pb.TokenRequest, context: grpc.ServicerContext) -> pb.CommitResponse:
        version = self._party.commit(request.token)  # on disk (via the store) when it returns
        return pb.CommitResponse(version=version)

    @rpc_boundary
    def Prepare(
        self, request: pb.TokenRequest, context: grpc.ServicerContext
    ) -> pb.PrepareResponse:
        version, digest = self._party.prepare(request.token)
        return pb.PrepareResponse(version=version, digest=digest)

    @rpc_boundary
    def Rollback(
        self, request: pb.RollbackRequest, context: grpc.ServicerContext
    ) -> pb.CommitResponse:
        return pb.CommitResponse(version=self._party.rollback(request.version))


def start(cfg: PassiveServerConfig) -> RunningServer:
    """Build the party (loading its last committed model) and start serving it."""
    party = build_passive_party(cfg.federation, cfg.party_id)
    CheckpointStore(cfg.state_dir, cfg.party_id).load_into(party)  # commits write through it
    servicer = PassiveServicer(party)
    return start_server(
        cfg.network,
        lambda server: pb_grpc.add_PassivePartyServicer_to_server(servicer, server),
        PeerGuard(is_active_party, "the active party"),
    )


def serve(
    cfg: PassiveServerConfig, ready_file: Path | None = None, exit_with_parent: bool = False
) -> None:
    """Serve until SIGTERM; in-flight calls get the grace period to finish."""
    running = start(cfg)
    log.info("passive party %s ready", cfg.party_id)
    run_until_signal(running, ready_file=ready_file, exit_with_parent=exit_with_parent)
