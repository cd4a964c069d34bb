"""The active party process: labels, the top model, and the operators' coordinator API.

It connects to every passive party (mutual TLS, as identity ``active``), builds
the :class:`~vfl.coordinator.Coordinator` over :class:`GrpcPassiveClient`\\ s
and serves the ``Coordinator`` service to operator certificates only. Train
and unlearn requests run one at a time through :class:`RequestRunner`; the
servicer only validates, converts and forwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
from pydantic import BaseModel, ConfigDict, Field

from vfl.coordinator import Coordinator, TrainConfig
from vfl.data.base import LabelShard
from vfl.errors import ConfigError, VFLError
from vfl.federation import FederationSpec, build_active_party
from vfl.grpc import serde_operator
from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.errors import UnknownRequestError, rpc_boundary, status_of
from vfl.grpc.proto import coordinator_pb2 as cpb
from vfl.grpc.proto import coordinator_pb2_grpc as cpb_grpc
from vfl.grpc.serde_operator import receipt_to_wire
from vfl.grpc.server import NetworkConfig, RunningServer, run_until_signal, start_server
from vfl.grpc.tls import PeerGuard, is_operator
from vfl.metrics import accuracy, evaluate
from vfl.party.store import CheckpointStore
from vfl.progress import ProgressCallback
from vfl.seeding import derive_seed
from vfl.txn.journal import MemoryJournal, RequestJournal
from vfl.txn.limits import check_page, check_train
from vfl.txn.records import PartyStatus, RequestRecord, StatusReport
from vfl.txn.recovery import recover
from vfl.txn.runner import RequestRunner
from vfl.txn.sqlite import SqliteJournal
from vfl.unlearning import UnlearnConfig, get_method, validate_classes
from vfl.unlearning.run import unlearn_and_evaluate

__all__ = ["ActiveServer", "ActiveServerConfig", "CoordinatorServicer", "serve", "start"]

log = logging.getLogger(__name__)


class ActiveServerConfig(BaseModel):
    """Everything ``vfl serve active`` takes."""

    model_config = ConfigDict(frozen=True)

    federation: FederationSpec = FederationSpec()
    passive: dict[str, str]  # party id -> HOST:PORT
    network: NetworkConfig = NetworkConfig()
    state_dir: Path | None = None
    train: TrainConfig = TrainConfig()
    unlearn: UnlearnConfig = UnlearnConfig()
    connect_timeout: float = Field(120.0, gt=0)

    def checked(self) -> ActiveServerConfig:
        expected = self.federation.party_ids()
        if sorted(self.passive) != expected:
            raise ConfigError(
                f"--passive must name exactly the parties {', '.join(expected)} "
                f"(got {', '.join(sorted(self.passive)) or 'none'})"
            )
        return self


class ActiveServer:
    """The label holder's state: coordinator, labels, request runner, checkpoint store."""

    def __init__(self, cfg: ActiveServerConfig, journal: RequestJournal | None = None) -> None:
        self.cfg = cfg.checked()
        tls = cfg.network.tls.checked()
        clients = [
            GrpcPassiveClient(pid, cfg.passive[pid], tls) for pid in cfg.federation.party_ids()
        ]
        for client in clients:
            client.wait_ready(cfg.connect_timeout)
        dims = [client.info().embed_dim for client in clients]
        self.co = Coordinator(build_active_party(cfg.federation, dims), clients)
        self.store = CheckpointStore(cfg.state_dir, "active")
        self.store.load_into(self.co.active)
        journal = journal or _default_journal(cfg.state_dir)
        for record in recover(journal, self.co):  # rolls decided requests forward, aborts others
            log.warning("request %s: %s", record.id, record.error)
        self.runner = RequestRunner(  # commits write through the store
            self.co, journal, enforce_versions=cfg.state_dir is not None,
            max_watchers=max(1, cfg.network.max_workers // 2),  # the rest stay for other calls
        )  # fmt: skip

    @property
    def labels(self) -> LabelShard:
        return self.co.active.labels

    def train_work(self, record: RequestRecord, progress: ProgressCallback) -> dict[str, Any]:
        cfg = self.cfg.train
        train = TrainConfig(epochs=record.epochs, batch_size=cfg.batch_size, update=cfg.update)
        seed = derive_seed(self.cfg.federation.seed, "train-order", record.id)
        self.co.train(self.labels.train_ids, train, seed, progress)
        pred = self.co.predict(self.labels.test_ids)
        return {"test_acc": accuracy(pred, self.labels.labels_of(self.labels.test_ids))}

    def unlearn_work(self, record: RequestRecord, progress: ProgressCallback) -> dict[str, Any]:
        record.before = evaluate(self.co, self.labels, record.classes).as_dict()
        return unlearn_and_evaluate(
            self.co, record.method, record.classes, self.cfg.unlearn, self.cfg.train,
            self.cfg.federation.seed, progress,
        )  # fmt: skip

    def status(self) -> StatusReport:
        active = self.co.active
        parties = [_party_status(client) for client in self.co.clients]
        parties.append(
            PartyStatus(
                party_id="active", reachable=True, version=active.version, digest=active.digest()
            )
        )
        return StatusReport(
            dataset=self.cfg.federation.dataset,
            num_classes=active.num_classes,
            parties=parties,
            running=self.runner.running,
            queued=self.runner.queued(),
        )

    def close(self) -> None:
        self.runner.shutdown()
        self.co.close()


def _default_journal(state_dir: Path | None) -> RequestJournal:
    """SQLite under ``--state-dir`` (requests survive restarts); in memory without one."""
    if state_dir is None:
        log.warning("no --state-dir: the request journal is in memory and lost on restart")
        return MemoryJournal()
    return SqliteJournal.in_state_dir(state_dir)


def _party_status(client: GrpcPassiveClient) -> PartyStatus:
    """A party's version and digest; a party that does not answer is a status, not an error."""
    try:
        info = client.info()
    except VFLError as exc:
        return PartyStatus(party_id=client.party_id, reachable=False, error=str(exc))
    return PartyStatus(
        party_id=info.party_id, reachable=True, version=info.version, digest=info.digest
    )


class CoordinatorServicer(cpb_grpc.CoordinatorServicer):
    def __init__(self, server: ActiveServer) -> None:
        self._server = server

    @rpc_boundary
    def SubmitTrain(self, request: cpb.TrainRequest, context: grpc.ServicerContext) -> cpb.Request:
        epochs = check_train(request.epochs, request.batch_size, request.lr)
        record = RequestRecord(
            id="", kind="train", epochs=epochs, idempotency_key=request.idempotency_key
        )
        submitted = self._server.runner.submit(record, self._server.train_work, context.is_active)
        return serde_operator.request_to_proto(submitted)

    @rpc_boundary
    def SubmitUnlearn(
        self, request: cpb.UnlearnRequest, context: grpc.ServicerContext
    ) -> cpb.Request:
        method = request.method or "luv"
        get_method(method)
        classes = validate_classes(list(request.classes), self._server.co.active.num_classes)
        record = RequestRecord(
            id="", kind="unlearn", classes=classes, method=method,
            idempotency_key=request.idempotency_key,
        )  # fmt: skip
        submitted = self._server.runner.submit(record, self._server.unlearn_work, context.is_active)
        return serde_operator.request_to_proto(submitted)

    @rpc_boundary
    def GetRequest(self, request: cpb.RequestId, context: grpc.ServicerContext) -> cpb.Request:
        reply = serde_operator.request_to_proto(self._get(request.id))
        # only the durable journal signs (it holds the key); an in-memory one has no receipts
        reply.receipt = receipt_to_wire(self._server.runner.journal.receipt(request.id))
        return reply

    def _get(self, request_id: str) -> RequestRecord:
        record = self._server.runner.journal.get(request_id)
        if record is None:
            raise UnknownRequestError(f"no request {request_id!r}; see `vfl requests list`")
        return record

    @rpc_boundary
    def ListRequests(
        self, request: cpb.ListRequestsRequest, context: grpc.ServicerContext
    ) -> cpb.ListRequestsResponse:
        offset, limit = check_page(request.page_token, request.page_size)
        records = self._server.runner.journal.page(offset, limit + 1)  # one more: is there a next?
        more = len(records) > limit
        return cpb.ListRequestsResponse(
            requests=[serde_operator.request_to_proto(r) for r in records[:limit]],
            next_page_token=str(offset + limit) if more else "",
        )

    @rpc_boundary
    def Status(
        self, request: cpb.StatusRequest, context: grpc.ServicerContext
    ) -> cpb.StatusResponse:
        return serde_operator.status_to_proto(self._server.status())

    @rpc_boundary
    def Repair(
        self, request: cpb.RepairRequest, context: grpc.ServicerContext
    ) -> cpb.RepairResponse:
        version = self._server.runner.repair()
        parties = serde_operator.status_to_proto(self._server.status()).parties
        return cpb.RepairResponse(version=version, parties=parties)

    def Watch(
        self, request: cpb.RequestId, context: grpc.ServicerContext
    ) -> Iterator[cpb.RequestEvent]:
        try:
            self._get(request.id)
            with self._server.runner.watch_slot():  # bounded: each watcher holds a thread
                for event in self._server.runner.watch(request.id, context.is_active):
                    if isinstance(event, RequestRecord):
                        yield cpb.RequestEvent(request=serde_operator.request_to_proto(event))
                    else:
                        yield cpb.RequestEvent(progress=serde_operator.progress_to_proto(event))
        except VFLError as exc:  # unknown id, or every watcher slot taken
            context.abort(status_of(exc), str(exc))


def start(cfg: ActiveServerConfig) -> tuple[ActiveServer, RunningServer]:
    """Connect to the passive parties, then serve the coordinator API to operators."""
    active = ActiveServer(cfg)
    servicer = CoordinatorServicer(active)
    running = start_server(
        cfg.network,
        lambda server: cpb_grpc.add_CoordinatorServicer_to_server(servicer, server),
        PeerGuard(is_operator, "operator certificates"),
    )
    host = cfg.network.listen.rpartition(":")[0]
    active.runner.repair_command = f"vfl repair --coordinator {host}:{running.port}"
    return active, running


def serve(
    cfg: ActiveServerConfig, ready_file: Path | None = None, exit_with_parent: bool = False
) -> None:
    """Serve until SIGTERM; a running request is aborted (all parties restored) first."""
    active, running = start(cfg)
    log.info("active party ready with %d passive parties", len(cfg.passive))
    run_until_signal(running, active.close, ready_file, exit_with_parent)
