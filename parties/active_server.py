"""The active party process: labels, the top model, and the operators' coordinator API.

It connects to every passive party (mutual TLS, as identity ``active``), builds
the :class:`~vfl.coordinator.Coordinator` over :class:`GrpcPassiveClient`\\ s
and serves the ``Coordinator`` service to operator certificates only. Train
and unlearn requests run one at a time through :class:`RequestRunner`; the
servicer only validates, converts and forwards.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from vfl.coordinator import Coordinator, GradientTransform, TrainConfig
from vfl.data.base import LabelShard
from vfl.data.tables import resolve_classes
from vfl.errors import ConfigError, ProtocolError, VFLError
from vfl.federation import (
    ActiveData,
    FederationSpec,
    PassiveData,
    build_active_party,
    build_passive_party,
)
from vfl.grpc import serde_operator
from vfl.grpc.client import CallDeadlines, GrpcPassiveClient
from vfl.grpc.errors import UnknownRequestError, rpc_boundary, status_of
from vfl.grpc.proto import coordinator_pb2 as cpb
from vfl.grpc.proto import coordinator_pb2_grpc as cpb_grpc
from vfl.grpc.serde_operator import receipt_to_wire
from vfl.grpc.server import NetworkConfig, RunningServer, run_until_signal, start_server
from vfl.grpc.tls import PeerGuard, is_operator
from vfl.metrics import CollapseGuard, accuracy, evaluate, evaluate_samples, per_class_accuracy
from vfl.party.store import CheckpointStore
from vfl.progress import ProgressCallback
from vfl.protocol.client import InProcessClient, PassivePartyClient
from vfl.seeding import derive_seed
from vfl.txn.history import check_history_files, check_journal_covers
from vfl.txn.journal import MemoryJournal, RequestJournal
from vfl.txn.limits import (
    apply_unlearn_config,
    check_method_options,
    check_page,
    check_sample_ids,
    check_train,
    check_unlearn_config,
)
from vfl.txn.receipts import PUBLIC_KEY_FILE
from vfl.txn.records import PartyStatus, RequestRecord, StatusReport
from vfl.txn.recovery import recover
from vfl.txn.runner import RequestRunner
from vfl.txn.sqlite import SqliteJournal
from vfl.txn.tombstones import forgotten_classes, forgotten_samples
from vfl.unlearning import UnlearnConfig, create_method, validate_classes
from vfl.unlearning.base import check_scope, validate_samples
from vfl.unlearning.run import unlearn_and_evaluate
from vfl.unlearning.samples import SAMPLE_METHOD

__all__ = ["ActiveServer", "ActiveServerConfig", "CoordinatorServicer", "serve", "start"]

log = logging.getLogger(__name__)

MAX_PREDICT_IDS = 65_536
"""IDs one Predict call scores; ``vfl predict`` sends larger lists in batches."""


class ActiveServerConfig(BaseModel):
    """Everything ``vfl serve active`` takes."""

    model_config = ConfigDict(frozen=True)

    federation: FederationSpec = FederationSpec()
    data: ActiveData | None = None  # its label file; None: the built-in dataset's labels
    own_features: PassiveData | None = None  # the active party's own columns, if any
    passive: dict[str, str]  # party id -> HOST:PORT
    network: NetworkConfig = NetworkConfig()
    state_dir: Path | None = None
    train: TrainConfig = TrainConfig()
    unlearn: UnlearnConfig = UnlearnConfig()
    connect_timeout: float = Field(120.0, gt=0)
    deadlines: CallDeadlines = CallDeadlines()  # per call to a passive party, by kind
    new_history: bool = False  # start a journal and key for parties that hold versions already

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

    def __init__(
        self,
        cfg: ActiveServerConfig,
        journal: RequestJournal | None = None,
        transforms: Sequence[GradientTransform] = (),
    ) -> None:
        """``transforms``: gradient defenses on every step sent (``vfl serve active --defense``;
        the CLI resolves the names, as the defense registry sits above the parties)."""
        self.cfg = cfg.checked()
        tls = cfg.network.tls.checked()
        labels = cfg.data.read() if cfg.data is not None else None  # bad files fail before dialling
        remote = [
            GrpcPassiveClient(pid, cfg.passive[pid], tls, deadlines=cfg.deadlines)
            for pid in cfg.federation.party_ids()
        ]
        for client in remote:
            client.wait_ready(cfg.connect_timeout)
        infos = {client.party_id: client.info() for client in remote}
        versions = {party: info.version for party, info in infos.items()}
        checked = None if journal is not None or cfg.new_history else cfg.state_dir
        if checked is not None:  # before this process creates anything in its state dir
            check_history_files(checked, versions)
        own = [_own_features(cfg)] if cfg.own_features is not None else []
        clients: list[PassivePartyClient] = [*remote, *own]
        dims = [infos[c.party_id].embed_dim for c in remote] + [c.info().embed_dim for c in own]
        journal = journal or _default_journal(cfg.state_dir)
        if checked is not None and isinstance(journal, SqliteJournal):
            check_journal_covers(journal, versions)
        active = build_active_party(cfg.federation, dims, labels=labels)
        self.co = Coordinator(active, clients, transforms, fence=_fence(cfg.state_dir))
        # status probes every party at once, on threads of its own: a hung party costs
        # one quick deadline, not one per party, and never waits behind a request's calls
        self._probes = ThreadPoolExecutor(2 * len(clients), thread_name_prefix="vfl-status")
        self.store = CheckpointStore(cfg.state_dir, "active")
        self.store.load_into(self.co.active)
        self.align_command = "vfl align --coordinator HOST:PORT"
        for record in recover(journal, self.co):  # rolls decided requests forward, aborts others
            log.warning("request %s: %s", record.id, record.error)
        self.runner = RequestRunner(  # commits write through the store
            self.co, journal, enforce_versions=cfg.state_dir is not None,
            max_watchers=max(1, cfg.network.max_workers // 2),  # the rest stay for other calls
        )  # fmt: skip

    @property
    def labels(self) -> LabelShard:
        return self.co.active.labels

    def require_aligned(self) -> None:
        """Training, unlearning and scoring need the aligned index (FAILED_PRECONDITION)."""
        if not self.co.active.aligned:
            raise ProtocolError(f"the parties are not aligned yet: run `{self.align_command}`")

    def forgotten(self) -> list[int]:
        """The tombstones: classes committed unlearning removed (from the journal)."""
        return forgotten_classes(self.runner.journal.all())

    def forgotten_positions(self) -> np.ndarray:
        """Training positions of the samples sample-level requests forgot (tombstones)."""
        index = self.co.active.sample_index
        gone = forgotten_samples(self.runner.journal.all())
        if index is None or not gone:
            return np.empty(0, dtype=np.int64)
        return index.positions(sorted(gone.intersection(index.train)))

    def train_work(self, record: RequestRecord, progress: ProgressCallback) -> dict[str, Any]:
        """Train on every training sample except forgotten samples and those of
        still-forgotten classes."""
        cfg = self.cfg.train
        train = TrainConfig(epochs=record.epochs, batch_size=cfg.batch_size, update=cfg.update)
        # seeded by the version it starts from: the same history gives the same model
        seed = derive_seed(self.cfg.federation.seed, "train-order", str(self.co.active.version))
        left_out = sorted(set(self.forgotten()) - set(record.classes))
        ids = training_ids(self.labels, left_out, self.forgotten_positions())
        guard = self._collapse_guard(left_out)
        self.co.train(ids, train, seed, progress)
        return self._test_metrics(left_out) | guard.check()

    def _collapse_guard(self, gone: list[int]) -> CollapseGuard:
        """The collapse rule over the training samples of every class not in ``gone``."""
        ids = self.labels.train_ids
        retained = ids[~np.isin(self.labels.labels_of(ids), gone)]
        seed = derive_seed(self.cfg.federation.seed, "collapse-guard")
        return CollapseGuard(self.co, self.labels, retained, seed)

    def _test_metrics(self, forgotten: list[int]) -> dict[str, Any]:
        """Test accuracy overall and per class; split by forgotten/retained when any is."""
        test_ids = self.labels.test_ids
        pred, y = self.co.predict(test_ids), self.labels.labels_of(test_ids)
        out: dict[str, Any] = {
            "test_acc": accuracy(pred, y),
            "per_class": per_class_accuracy(pred, y, self.labels.num_classes),
        }
        if forgotten:
            gone = np.isin(y, forgotten)
            out |= {"forget_acc": accuracy(pred, y, gone), "retain_acc": accuracy(pred, y, ~gone)}
        return out

    def align(self) -> cpb.AlignResponse:
        """Private set intersection with every party, then the split; no request may run."""
        with self.runner.exclusive("align"):
            report = self.co.align(self.cfg.federation.seed)
        log.info(
            "aligned: %d train, %d test and %d score samples held by every party",
            len(report.index.train), len(report.index.test), len(report.index.score),
        )  # fmt: skip
        return cpb.AlignResponse(
            active_size=report.active_size,
            party_sizes=report.party_sizes,
            shared_with_active=report.pairwise,
            train_samples=len(report.index.train),
            test_samples=len(report.index.test),
            score_samples=len(report.index.score),
        )

    def predict(self, ids: list[str]) -> cpb.PredictResponse:
        """Score aligned IDs with the committed model (refused while a request runs)."""
        if len(ids) > MAX_PREDICT_IDS:
            raise ConfigError(
                f"predict: {len(ids)} IDs in one call; send at most {MAX_PREDICT_IDS} per call"
            )
        self.require_aligned()
        with self.runner.exclusive("predict"):
            active = self.co.active
            assert active.sample_index is not None
            predicted, probs = self.co.scores(active.sample_index.positions(ids))
            return cpb.PredictResponse(
                class_names=active.labels.class_names,
                predicted=predicted.tolist(),
                probabilities=probs.ravel().tolist(),
                version=active.version,
            )

    def unlearn_work(self, record: RequestRecord, progress: ProgressCallback) -> dict[str, Any]:
        samples = self.sample_positions(record.samples) if record.samples else None
        if samples is None:
            record.before = evaluate(self.co, self.labels, record.classes).as_dict()
        else:
            record.before = evaluate_samples(self.co, self.labels, samples).as_dict()
        guard = self._collapse_guard(sorted({*self.forgotten(), *record.classes}))
        unlearn = apply_unlearn_config(self.cfg.unlearn, record.unlearn_config)
        after = unlearn_and_evaluate(
            self.co, record.method, record.classes, unlearn, self.cfg.train,
            self.cfg.federation.seed, progress, options=record.method_options, samples=samples,
        )  # fmt: skip
        return after | guard.check()

    def sample_positions(self, ids: list[str]) -> np.ndarray:
        """Training positions of sample IDs: unknown ones NOT_FOUND, test ones refused."""
        index = self.co.active.sample_index
        assert index is not None  # require_aligned ran at submission
        return validate_samples(index.positions(ids), self.labels)

    def status(self) -> StatusReport:
        active = self.co.active
        probes = [self._probes.submit(_party_status, client) for client in self.co.clients]
        parties = [probe.result() for probe in probes]
        parties.append(
            PartyStatus(
                party_id="active", reachable=True, version=active.version, digest=active.digest()
            )
        )
        if self.runner.in_doubt is not None and all(p.reachable for p in parties):
            self.runner.settle()  # every party answers: retry the abort now (no hung wait)
            if self.runner.in_doubt is None:
                return self.status()
        _mark_in_doubt(parties, self.runner)
        index = active.sample_index
        return StatusReport(
            dataset=self.dataset_name,
            num_classes=active.num_classes,
            parties=parties,
            running=self.runner.running,
            queued=self.runner.queued(),
            class_names=list(active.table.class_names) if active.table else [],
            forgotten=self.forgotten(),
            aligned=index is not None,
            train_samples=len(index.train) if index else 0,
            test_samples=len(index.test) if index else 0,
            score_samples=len(index.score) if index else 0,
            forgotten_samples=int(self.forgotten_positions().size),
        )

    @property
    def dataset_name(self) -> str:
        data = self.cfg.data
        return data.labels.name if data is not None else self.cfg.federation.dataset

    def close(self) -> None:
        self.runner.shutdown()
        self._probes.shutdown(wait=False)
        self.co.close()


OWN_FEATURES = "active-features"
"""The party id of the active party's own columns: a passive party inside its process."""


def training_ids(labels: LabelShard, classes: list[int], samples: np.ndarray) -> np.ndarray:
    """The training positions a train request uses: none of the forgotten ``classes``,
    none of the forgotten ``samples`` (the tombstones)."""
    ids = labels.train_ids
    keep = ~np.isin(labels.labels_of(ids), classes) & ~np.isin(ids, samples)
    return ids[keep]


def _own_features(cfg: ActiveServerConfig) -> InProcessClient:
    """The active party's own feature columns as a passive party it runs itself.

    It aligns, trains, versions and commits like any other party (in-process, no
    network), with its checkpoints under ``STATE_DIR/own-features``.
    """
    assert cfg.own_features is not None
    party = build_passive_party(cfg.federation, OWN_FEATURES, data=cfg.own_features)
    state_dir = cfg.state_dir / "own-features" if cfg.state_dir else None
    CheckpointStore(state_dir, OWN_FEATURES).load_into(party)
    return InProcessClient(party)


def _fence(state_dir: Path | None) -> str:
    """This coordinator's name to the parties: the fingerprint of its journal's signing
    key (made with the journal). No state dir, no journal: no fence, and parties already
    bound to a coordinator refuse this one."""
    if state_dir is None:
        return ""
    return hashlib.sha256((state_dir / PUBLIC_KEY_FILE).read_bytes()).hexdigest()[:32]


def _default_journal(state_dir: Path | None) -> RequestJournal:
    """SQLite under ``--state-dir`` (requests survive restarts); in memory without one."""
    if state_dir is None:
        log.warning("no --state-dir: the request journal is in memory and lost on restart")
        return MemoryJournal()
    return SqliteJournal.in_state_dir(state_dir)


def _mark_in_doubt(parties: list[PartyStatus], runner: RequestRunner) -> None:
    """Flag the parties whose weights may not be their version's (a failed abort)."""
    doubt = runner.in_doubt
    if doubt is None:
        return
    off = doubt.parties({p.party_id: p.digest for p in parties if p.reachable})
    for party in parties:
        if party.party_id in off:
            party.in_doubt = True
            party.error = "; ".join(
                filter(None, [party.error, f"in doubt: {doubt.refusal(runner.repair_command)}"])
            )


def _party_status(client: PassivePartyClient) -> PartyStatus:
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
        self._server.require_aligned()
        relearn = self._relearnable(list(request.relearn))
        record = RequestRecord(
            id="", kind="train", epochs=epochs, classes=relearn,
            idempotency_key=request.idempotency_key,
        )  # fmt: skip
        submitted = self._server.runner.submit(record, self._server.train_work, context.is_active)
        return serde_operator.request_to_proto(submitted)

    @rpc_boundary
    def SubmitUnlearn(
        self, request: cpb.UnlearnRequest, context: grpc.ServicerContext
    ) -> cpb.Request:
        self._server.require_aligned()
        record = (
            self._sample_request(request) if request.sample_ids else self._class_request(request)
        )
        submitted = self._server.runner.submit(record, self._server.unlearn_work, context.is_active)
        return serde_operator.request_to_proto(submitted)

    def _class_request(self, request: cpb.UnlearnRequest) -> RequestRecord:
        method = request.method or "luv"
        check_scope(create_method(method), "classes")
        tuning = self._tuning(method, request)
        active = self._server.co.active
        named = resolve_classes(request.class_names, active.labels.class_names)
        classes = validate_classes([*request.classes, *named], active.num_classes)
        return RequestRecord(
            id="", kind="unlearn", classes=classes, method=method,
            idempotency_key=request.idempotency_key, **tuning,
        )  # fmt: skip

    def _sample_request(self, request: cpb.UnlearnRequest) -> RequestRecord:
        """Sample-level: training sample IDs, checked now (nothing journaled if one is off)."""
        if request.classes or request.class_names:
            raise ConfigError("an unlearning request names classes or samples, not both")
        method = request.method or "luv"
        method = SAMPLE_METHOD if method == "luv" else method
        check_scope(create_method(method), "samples")
        tuning = self._tuning(method, request)
        ids = check_sample_ids(list(request.sample_ids))
        self._server.sample_positions(ids)
        already = forgotten_samples(self._server.runner.journal.all()) & set(ids)
        if already:
            raise ConfigError(
                f"{len(already)} of {len(ids)} samples are already forgotten "
                f"(first: {min(already)!r})"
            )
        return RequestRecord(
            id="", kind="unlearn", samples=ids, method=method,
            idempotency_key=request.idempotency_key, **tuning,
        )  # fmt: skip

    def _tuning(self, method: str, request: cpb.UnlearnRequest) -> dict[str, Any]:
        """The request's method options and its overrides of the server's unlearn settings,
        checked now (nothing is journaled if one is off), as :class:`RequestRecord` fields."""
        return {
            "method_options": check_method_options(method, request.method_options),
            "unlearn_config": check_unlearn_config(
                request.unlearn_config, self._server.cfg.unlearn
            ),
        }

    def _relearnable(self, classes: list[int]) -> list[int]:
        if not classes:
            return []
        classes = validate_classes(classes, self._server.co.active.num_classes)
        forgotten = self._server.forgotten()
        if not_forgotten := [c for c in classes if c not in forgotten]:
            raise ConfigError(
                f"--relearn {not_forgotten[0]}: that class is not forgotten "
                f"(forgotten: {', '.join(map(str, forgotten)) or 'none'})"
            )
        return classes

    @rpc_boundary
    def Align(self, request: cpb.AlignRequest, context: grpc.ServicerContext) -> cpb.AlignResponse:
        return self._server.align()

    @rpc_boundary
    def Predict(
        self, request: cpb.PredictRequest, context: grpc.ServicerContext
    ) -> cpb.PredictResponse:
        return self._server.predict(list(request.ids))

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
            requests=[serde_operator.request_to_proto(r, False) for r in records[:limit]],
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


def start(
    cfg: ActiveServerConfig, transforms: Sequence[GradientTransform] = ()
) -> tuple[ActiveServer, RunningServer]:
    """Connect to the passive parties, then serve the coordinator API to operators."""
    active = ActiveServer(cfg, transforms=transforms)
    servicer = CoordinatorServicer(active)
    running = start_server(
        cfg.network,
        lambda server: cpb_grpc.add_CoordinatorServicer_to_server(servicer, server),
        PeerGuard(is_operator, "operator certificates"),
    )
    host = cfg.network.listen.rpartition(":")[0]
    active.runner.repair_command = f"vfl repair --coordinator {host}:{running.port}"
    active.align_command = f"vfl align --coordinator {host}:{running.port}"
    return active, running


def serve(
    cfg: ActiveServerConfig,
    ready_file: Path | None = None,
    exit_with_parent: bool = False,
    transforms: Sequence[GradientTransform] = (),
) -> None:
    """Serve until SIGTERM; a running request is aborted (all parties restored) first."""
    active, running = start(cfg, transforms)
    log.info("active party ready with %d passive parties", len(cfg.passive))
    run_until_signal(running, active.close, ready_file, exit_with_parent)
