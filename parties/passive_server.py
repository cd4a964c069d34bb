"""The passive party process: the party protocol over gRPC, for one :class:`PassiveParty`.

The one handler decodes a batch with :mod:`vfl.grpc.serde`, runs it with
:func:`vfl.protocol.dispatch.dispatch`, and encodes the answer;
:func:`~vfl.grpc.errors.rpc_boundary` turns errors into status codes. Every
check happens before the party is touched, so a rejected request leaves the
model exactly as it was. Only the active party's certificate may call it.

Test hook (tests/transactions): with ``VFL_TEST_KILL_AT_TRAIN_EMBED=N`` the
process SIGKILLs itself when its N-th training embed arrives (alone or
riding with a gradient), before applying anything in it, so a test can kill a
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
from pydantic import BaseModel, ConfigDict

from vfl.federation import FederationSpec, PassiveData, build_passive_party
from vfl.grpc import serde
from vfl.grpc.errors import rpc_boundary
from vfl.grpc.proto import passive_pb2 as pb
from vfl.grpc.proto import passive_pb2_grpc as pb_grpc
from vfl.grpc.server import NetworkConfig, RunningServer, run_until_signal, start_server
from vfl.grpc.tls import PeerGuard, is_active_party
from vfl.party.passive import PassiveParty
from vfl.party.store import CheckpointStore
from vfl.protocol.dispatch import dispatch
from vfl.protocol.messages import Abort, Begin, Commit, Embed, Prepare, Request

__all__ = ["PassiveServerConfig", "PassiveServicer", "serve", "start"]

log = logging.getLogger(__name__)

KILL_ENV = "VFL_TEST_KILL_AT_TRAIN_EMBED"


class PassiveServerConfig(BaseModel):
    """Everything ``vfl serve passive`` takes."""

    model_config = ConfigDict(frozen=True)

    party_id: str
    federation: FederationSpec = FederationSpec()
    data: PassiveData | None = None  # its own file; None: its band of the built-in dataset
    network: NetworkConfig = NetworkConfig()
    state_dir: Path | None = None


LIFECYCLE = (Begin, Prepare, Commit, Abort)
"""The two-phase-commit verbs: logged at INFO with their request id (the token)."""


def _log_lifecycle(requests: list[Request], version: int) -> None:
    for r in requests:
        if isinstance(r, LIFECYCLE):
            log.info("request %s: %s done (version %d)", r.token, r.op, version)


class PassiveServicer(pb_grpc.PassivePartyServicer):
    """Decodes a batch, hands it to :func:`~vfl.protocol.dispatch.dispatch`, encodes the answer.

    Decoding checks every request before the party is touched, so a malformed
    batch changes nothing; a refusal mid-batch ends the call with its status.
    """

    def __init__(self, party: PassiveParty) -> None:
        self._party = party
        self._train_embeds = itertools.count(1)
        self._kill_at = int(os.environ.get(KILL_ENV, "0"))

    @rpc_boundary
    def Call(self, request: pb.CallRequest, context: grpc.ServicerContext) -> pb.CallResponse:
        requests = serde.decode_call(request)
        for r in requests:
            self._count_embed(r)
        results = serde.encode_results(dispatch(self._party, requests))
        _log_lifecycle(requests, self._party.version)
        return results

    def _count_embed(self, request: Request) -> None:
        if not (self._kill_at and isinstance(request, Embed) and request.train):
            return
        if next(self._train_embeds) == self._kill_at:
            os.kill(os.getpid(), signal.SIGKILL)  # the documented test hook


def start(cfg: PassiveServerConfig) -> RunningServer:
    """Build the party (loading its last committed model and its aligned index) and
    start serving it."""
    party = build_passive_party(cfg.federation, cfg.party_id, data=cfg.data)
    party.requests_only = cfg.state_dir is not None  # versions name the weights
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
