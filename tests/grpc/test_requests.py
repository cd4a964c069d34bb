"""The request runner: one at a time, in order; a failure restores every party."""

from __future__ import annotations

import socket

from vfl.coordinator import Coordinator, TrainConfig
from vfl.federation import FederationSpec, build_active_party
from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.tls import TLSConfig
from vfl.progress import ProgressEvent
from vfl.transport import open_federation
from vfl.txn.journal import MemoryJournal
from vfl.txn.records import RequestRecord
from vfl.txn.runner import RequestRunner

SPEC = FederationSpec(dataset="digits", parties=2)


def final(runner: RequestRunner, request_id: str) -> RequestRecord:
    return [e for e in runner.watch(request_id) if isinstance(e, RequestRecord)][-1]


def test_failed_work_restores_every_party_and_later_requests_still_run() -> None:
    data = SPEC.load()
    order: list[str] = []
    with open_federation("inprocess", SPEC, data) as co:
        saved: list[int] = []
        runner = RequestRunner(co, MemoryJournal(), lambda: saved.append(co.active.version))

        def train_then_fail(record: RequestRecord, progress) -> dict:
            order.append(record.id)
            co.train(data.train_ids[:256], TrainConfig(epochs=1), 0, progress)
            raise RuntimeError("party lost mid-request")

        def train(record: RequestRecord, progress) -> dict:
            order.append(record.id)
            co.train(data.train_ids[:256], TrainConfig(epochs=1), 0, progress)
            return {"test_acc": 1.0}

        before = co.digests()
        failing = runner.submit(RequestRecord(id="", kind="train", epochs=1), train_then_fail)
        ok = runner.submit(RequestRecord(id="", kind="train", epochs=1), train)

        failed = final(runner, failing.id)
        assert failed.status == "aborted" and "party lost mid-request" in failed.error
        assert failed.digests_before == before == failed.digests_after

        done = final(runner, ok.id)
        assert done.status == "committed" and done.after == {"test_acc": 1.0}
        assert done.digests_after == co.digests() != before
        assert order == [failing.id, ok.id] and saved == [co.active.version]
        assert [r.status for r in runner.journal.all()] == ["aborted", "committed"]
        runner.shutdown()


def test_watching_a_finished_request_yields_its_final_record() -> None:
    with open_federation("inprocess", SPEC, SPEC.load()) as co:
        runner = RequestRunner(co, MemoryJournal(), lambda: None)

        def quick(record: RequestRecord, progress) -> dict:
            progress(ProgressEvent("train", 1, 1))
            return {}

        request = runner.submit(RequestRecord(id="", kind="train", epochs=1), quick)
        assert final(runner, request.id).status == "committed"
        events = list(runner.watch(request.id))  # history was compacted
        assert len(events) == 1 and events[0].status == "committed"
        again = runner.submit(
            RequestRecord(id="", kind="train", epochs=1, idempotency_key="k"), quick
        )
        same = runner.submit(
            RequestRecord(id="", kind="train", epochs=1, idempotency_key="k"), quick
        )
        assert same.id == again.id
        runner.shutdown()
        assert len(runner.journal.all()) == 2  # the duplicate was not journaled


def closed_port() -> int:
    """A port the OS just handed out and nobody listens on any more."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_party_aborts_the_request_and_the_worker_survives(certs) -> None:
    spec = FederationSpec(dataset="digits", parties=1)
    tls = TLSConfig(certs=certs, identity="active")
    client = GrpcPassiveClient("passive-0", f"127.0.0.1:{closed_port()}", tls, timeout=10)
    co = Coordinator(build_active_party(spec, [64]), [client])
    runner = RequestRunner(co, MemoryJournal(), lambda: None)
    for _ in range(2):  # the second request proves the worker thread is still alive
        request = runner.submit(RequestRecord(id="", kind="train", epochs=1), lambda r, p: {})
        record = final(runner, request.id)
        assert record.status == "aborted" and "UNAVAILABLE" in record.error
    runner.shutdown()
    co.close()
