"""The active party's coordinator API over mTLS: bad requests, idempotency, graceful SIGTERM."""

from __future__ import annotations

import signal
from contextlib import ExitStack
from pathlib import Path

import grpc
import pytest

from vfl.federation import FederationSpec
from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.errors import PeerRejectedError, RemoteNotFoundError, RemoteProtocolError
from vfl.grpc.local import LOOPBACK, federation_args, tls_args
from vfl.grpc.operator import CoordinatorClient
from vfl.grpc.processes import ChildServer, serve_command, spawned
from vfl.grpc.tls import TLSConfig
from vfl.txn.records import RequestRecord

SPEC = FederationSpec(dataset="digits", parties=2, seed=0)  # as in conftest.py


def start_active(
    stack: ExitStack, passives: dict[str, str], certs: Path, workdir: Path, durable: bool = True
) -> ChildServer:
    """``vfl serve active`` against the module's passive parties, on a free port.

    The session's passive parties keep no checkpoints and are at whatever version
    earlier tests left; a ``durable`` (``--state-dir``) active party starts at v0
    and so refuses requests until the versions agree (tests/transactions). It
    starts a new history on purpose: parties above v0 without the journal that
    made them stop a coordinator at start otherwise (tests/transactions/test_lost_history.py).
    """
    state = ["--state-dir", str(workdir / "state"), "--new-history"] if durable else []
    command = serve_command(
        "active", "--listen", f"{LOOPBACK}:0", *state,
        *[arg for p, target in passives.items() for arg in ("--passive", f"{p}={target}")],
        *federation_args(SPEC), *tls_args(TLSConfig(certs=certs, identity="active")),
    )  # fmt: skip
    return stack.enter_context(spawned(command, workdir, "active"))


def operator(target: str, certs: Path, identity: str = "admin") -> CoordinatorClient:
    return CoordinatorClient(target, TLSConfig(certs=certs, identity=identity))


@pytest.mark.slow
def test_operator_api_rejects_bad_requests_and_dedupes(passives, certs, tmp_path) -> None:
    with ExitStack() as stack:
        active = start_active(stack, passives, certs, tmp_path)
        target = f"{LOOPBACK}:{active.port()}"
        with operator(target, certs) as client:
            for classes, match in (
                ([42], "out of range"),
                ([3, 3], "named twice"),
                ([], "at least"),
            ):
                with pytest.raises(RemoteProtocolError, match=match) as info:
                    client.submit_unlearn(classes, "luv")
                assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
            with pytest.raises(RemoteProtocolError, match="unknown method"):
                client.submit_unlearn([3], "no-such-method")
            with pytest.raises(RemoteNotFoundError, match="no request"):
                client.get("nope")
            first = client.submit_train(1, idempotency_key="k1")
            again = client.submit_train(1, idempotency_key="k1")
            assert again.id == first.id
            final = [e for e in client.watch(first.id) if isinstance(e, RequestRecord)][-1]
            assert final.status == "committed"
            assert [r.id for r in client.list()] == [first.id]
        with (
            operator(target, certs, identity="active") as party,
            pytest.raises(PeerRejectedError, match="only operator certificates"),
        ):
            party.status()


@pytest.mark.slow
def test_sigterm_aborts_the_running_request_and_restores_every_party(
    passives, certs, tmp_path
) -> None:
    with ExitStack() as stack:
        active = start_active(stack, passives, certs, tmp_path, durable=False)
        target = f"{LOOPBACK}:{active.port()}"
        with operator(target, certs) as client:
            before = {p.party_id: (p.version, p.digest) for p in client.status().parties}
            request = client.submit_train(500)  # far longer than the test
            events = client.watch(request.id)
            next(e for e in events if not isinstance(e, RequestRecord))  # it is running
            active.proc.send_signal(signal.SIGTERM)
            final = [e for e in events if isinstance(e, RequestRecord)][-1]
            assert active.proc.wait(60) == 0
    assert final.status == "aborted" and "shutting down" in final.error
    tls = TLSConfig(certs=certs, identity="active")
    for party_id, target in passives.items():
        party = GrpcPassiveClient(party_id, target, tls)
        info = party.info()
        party.close()
        assert (info.version, info.digest) == before[party_id]
    assert final.digests_after == {p: d for p, (_, d) in before.items()}
