"""The operators' client for the coordinator API (what ``vfl train|unlearn|requests|status`` use).

Like :class:`~vfl.grpc.client.GrpcPassiveClient`, it converts every gRPC error
once, in :meth:`CoordinatorClient._call` / :meth:`CoordinatorClient.watch`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import numpy as np

from vfl.errors import ConfigError
from vfl.grpc import serde_operator
from vfl.grpc.errors import PartyUnavailableError, from_rpc_error
from vfl.grpc.proto import coordinator_pb2 as cpb
from vfl.grpc.proto.coordinator_pb2_grpc import CoordinatorStub
from vfl.grpc.server import grpc_options
from vfl.grpc.tls import TLSConfig
from vfl.progress import ProgressEvent
from vfl.txn.records import RequestRecord, StatusReport

__all__ = ["ACTIVE_IDENTITY", "KEEPALIVE", "CoordinatorClient", "Prediction"]

ACTIVE_IDENTITY = "active"
"""The certificate name the coordinator (the active party) must present."""
KEEPALIVE = (10.0, 5.0)
"""Seconds between pings on an idle connection, and to wait for the answer: a silent
coordinator ends a ``--wait`` in about 15 s. The server allows pings this often
(:data:`vfl.grpc.server.KEEPALIVE_SERVER`)."""
INT32 = (-(2**31), 2**31 - 1)
POLL_SECONDS = 1.0
"""How often a request is polled when the coordinator has no watcher slot free."""


def _int32(name: str, value: int) -> int:
    """``value`` if the wire's int32 holds it (protobuf would raise a bare ValueError)."""
    if not INT32[0] <= value <= INT32[1]:
        raise ConfigError(f"{name} {value} is out of range (at most {INT32[1]})")
    return value


@dataclass(frozen=True)
class Prediction:
    """One ``Predict`` answer: a class index and a probability row per requested ID."""

    class_names: list[str]
    predicted: np.ndarray
    probabilities: np.ndarray
    version: int


class CoordinatorClient:
    def __init__(
        self,
        target: str,
        tls: TLSConfig,
        timeout: float = 60.0,
        keepalive: tuple[float, float] = KEEPALIVE,
    ) -> None:
        self._peer = f"coordinator at {target}"
        self._timeout = timeout
        every, wait = (int(1000 * s) for s in keepalive)
        options = [
            *grpc_options(),
            ("grpc.keepalive_time_ms", every),
            ("grpc.keepalive_timeout_ms", wait),
            # gRPC core waits for a ping's ack up to its own ping timeout (60 s by
            # default), whichever keepalive timeout is set: without this a silent
            # coordinator ended a --wait after 70 s, not 15
            ("grpc.http2.ping_timeout_ms", wait),
            ("grpc.http2.max_pings_without_data", 0),  # keep pinging while a watch is idle
        ]
        self._channel = tls.checked().open_channel(target, ACTIVE_IDENTITY, options)
        self._stub = CoordinatorStub(self._channel)

    def __enter__(self) -> CoordinatorClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._channel.close()

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self._stub, method)(request, timeout=self._timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, self._peer) from None

    def submit_train(
        self, epochs: int, idempotency_key: str = "", relearn: Sequence[int] = ()
    ) -> RequestRecord:
        request = cpb.TrainRequest(
            epochs=_int32("epochs", epochs),
            idempotency_key=idempotency_key,
            relearn=[_int32("class", c) for c in relearn],
        )
        return serde_operator.request_from_proto(self._call("SubmitTrain", request))

    def submit_unlearn(
        self,
        classes: Sequence[int | str],
        method: str,
        idempotency_key: str = "",
        sample_ids: Sequence[str] = (),
        method_options: Mapping[str, Any] | None = None,
        unlearn_config: Mapping[str, Any] | None = None,
    ) -> RequestRecord:
        """``classes`` by index or by name as the label file writes them (names win), or
        ``sample_ids``: forget those training samples' labels instead. ``method_options``:
        the method's settings (the coordinator checks them against its options model);
        ``unlearn_config``: overrides of the server's ``UnlearnConfig`` (e.g.
        ``{"epochs": 5}``), checked against the server's settings."""
        request = cpb.UnlearnRequest(
            class_names=[str(c) for c in classes], method=method,
            idempotency_key=idempotency_key, sample_ids=list(sample_ids),
            method_options=serde_operator.options_to_wire(dict(method_options or {})),
            unlearn_config=serde_operator.options_to_wire(dict(unlearn_config or {})),
        )  # fmt: skip
        return serde_operator.request_from_proto(self._call("SubmitUnlearn", request))

    def get(self, request_id: str) -> RequestRecord:
        return self.get_with_receipt(request_id)[0]

    def get_with_receipt(self, request_id: str) -> tuple[RequestRecord, dict[str, Any] | None]:
        """The request and its signed receipt (``None`` unless it committed with a journal)."""
        reply = self._call("GetRequest", cpb.RequestId(id=request_id))
        return serde_operator.request_from_proto(reply), serde_operator.receipt_from_wire(
            reply.receipt
        )

    def list(self, page_size: int = 0) -> list[RequestRecord]:
        """Every request, oldest first, fetched a page at a time (``page_size`` 0: the server's)."""
        records: list[RequestRecord] = []
        token = ""
        while True:
            request = cpb.ListRequestsRequest(page_size=page_size, page_token=token)
            reply = self._call("ListRequests", request)
            records += [serde_operator.request_from_proto(r) for r in reply.requests]
            if not reply.next_page_token or not reply.requests:
                return records
            token = reply.next_page_token

    def status(self) -> StatusReport:
        return serde_operator.status_from_proto(self._call("Status", cpb.StatusRequest()))

    def repair(self) -> tuple[int, StatusReport]:
        """Roll every party back to the newest version all hold: ``(version, status after)``."""
        reply = self._call("Repair", cpb.RepairRequest())
        status = serde_operator.status_from_proto(cpb.StatusResponse(parties=reply.parties))
        return int(reply.version), status

    def align(self, timeout: float = 3600.0) -> cpb.AlignResponse:
        """Private set intersection with every party (minutes for millions of IDs)."""
        try:
            return self._stub.Align(cpb.AlignRequest(), timeout=timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, self._peer) from None

    def predict(self, ids: Sequence[str]) -> Prediction:
        """Scores of aligned IDs: their predicted classes and probabilities."""
        reply = self._call("Predict", cpb.PredictRequest(ids=list(ids)))
        names = list(reply.class_names)
        probs = np.asarray(reply.probabilities, dtype=np.float32).reshape(len(ids), len(names))
        return Prediction(names, np.asarray(reply.predicted, dtype=np.int64), probs, reply.version)

    def watch(self, request_id: str) -> Iterator[ProgressEvent | RequestRecord]:
        """Progress events and status changes of a request until it ends.

        The stream has no deadline (a request may run for hours) but the
        channel sends keepalive pings, so a coordinator that stops answering
        (stopped, crashed, or its network black-holed) ends the watch with a
        :class:`PartyUnavailableError` within :data:`KEEPALIVE` seconds instead
        of never. When the coordinator has no watcher slot free
        (``RESOURCE_EXHAUSTED``), the request is polled once a second instead.
        """
        try:
            for event in self._stub.Watch(cpb.RequestId(id=request_id)):
                if event.HasField("progress"):
                    yield serde_operator.progress_from_proto(event.progress)
                else:
                    yield serde_operator.request_from_proto(event.request)
            return
        except grpc.RpcError as exc:
            error = from_rpc_error(exc, self._peer)
            if error.code != grpc.StatusCode.RESOURCE_EXHAUSTED:
                if isinstance(error, PartyUnavailableError):
                    raise PartyUnavailableError(
                        f"{self._peer} stopped answering while request {request_id} was "
                        f"followed ({exc.details() if isinstance(exc, grpc.Call) else exc}); "
                        f"it may still run: see `vfl requests show {request_id}`",
                        error.code,
                    ) from None
                raise error from None
        while not (record := self.get(request_id)).done:
            yield record
            time.sleep(POLL_SECONDS)
        yield record
