"""SIGKILL the coordinator (and a passive party) mid-request, restart: every party is back."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vfl.cli.app import app
from vfl.federation import FederationSpec
from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.local import LOOPBACK, federation_args, spawn_passive, tls_args
from vfl.grpc.operator import CoordinatorClient
from vfl.grpc.processes import ChildServer, serve_command, spawned
from vfl.grpc.tls import TLSConfig
from vfl.txn.receipts import PUBLIC_KEY_FILE
from vfl.txn.records import RequestRecord
from vfl.txn.recovery import RESTART_REASON
from vfl.txn.sqlite import JOURNAL_FILE, SqliteJournal

SPEC = FederationSpec(dataset="digits", parties=2, seed=0)  # as in tests/grpc/conftest.py


def start_active(
    stack: ExitStack, passives: dict[str, str], certs: Path, workdir: Path
) -> tuple[ChildServer, CoordinatorClient]:
    """``vfl serve active`` with ``workdir/state`` (so the SQLite journal is on by default)."""
    command = serve_command(
        "active", "--listen", f"{LOOPBACK}:0", "--state-dir", str(workdir / "state"),
        *[arg for p, target in passives.items() for arg in ("--passive", f"{p}={target}")],
        *federation_args(SPEC), *tls_args(TLSConfig(certs=certs, identity="active")),
    )  # fmt: skip
    server = stack.enter_context(spawned(command, workdir, "active"))
    client = CoordinatorClient(
        f"{LOOPBACK}:{server.port()}", TLSConfig(certs=certs, identity="admin")
    )
    stack.enter_context(client)
    return server, client


@pytest.fixture
def parties() -> Iterator[ExitStack]:
    """Holds this test's passive party processes; they are stopped when it ends."""
    with ExitStack() as stack:
        yield stack


def start_passive(stack: ExitStack, party_id: str, certs: Path, workdir: Path) -> ChildServer:
    """``vfl serve passive`` persisting its commits to ``workdir/<party_id>``."""
    extra = ["--state-dir", str(workdir / party_id)]
    return spawn_passive(stack, SPEC, party_id, certs, workdir, extra)


def party_states(passives: dict[str, str], certs: Path) -> dict[str, tuple[int, str]]:
    """Each passive party's (version, digest), asked directly, not through the coordinator."""
    out = {}
    for party_id, target in passives.items():
        client = GrpcPassiveClient(party_id, target, TLSConfig(certs=certs, identity="active"))
        info = client.info()
        client.close()
        out[party_id] = (info.version, info.digest)
    return out


@pytest.mark.slow
def test_sigkilled_coordinator_aborts_on_restart_and_keeps_the_row(
    parties: ExitStack, certs, tmp_path
) -> None:
    # Prepare: one committed train; then an unlearn request (retrain: 20 epochs, so it is
    # surely mid-request when killed; every party holds its snapshot) and one queued behind it.
    children = {p: start_passive(parties, p, certs, tmp_path) for p in SPEC.party_ids()}
    passives = {p: f"{LOOPBACK}:{c.port()}" for p, c in children.items()}
    with ExitStack() as stack:
        server, client = start_active(stack, passives, certs, tmp_path)
        trained = client.submit_train(1, idempotency_key="train-1")
        final = [e for e in client.watch(trained.id) if isinstance(e, RequestRecord)][-1]
        assert final.status == "committed", final.error
        before = {p.party_id: (p.version, p.digest) for p in client.status().parties}
        assert {v for v, _ in before.values()} == {1}  # a restart must not fall back to 0
        running = client.submit_unlearn([3], "retrain", idempotency_key="forget-3")
        queued = client.submit_unlearn([5], "luv", idempotency_key="forget-5")
        events = client.watch(running.id)
        next(e for e in events if not isinstance(e, RequestRecord))  # it is mid-request
        # Execute: no chance to clean up.
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(30)
    # passive-1 dies too and comes back from its last committed checkpoint, without a snapshot
    children["passive-1"].proc.send_signal(signal.SIGKILL)
    children["passive-1"].proc.wait(30)
    restarted = start_passive(parties, "passive-1", certs, tmp_path)
    passives["passive-1"] = f"{LOOPBACK}:{restarted.port()}"
    now = party_states(passives, certs)
    assert now["passive-0"] != before["passive-0"]  # mid-request weights, snapshot held
    assert now["passive-1"] == before["passive-1"]

    with ExitStack() as stack:
        _, client = start_active(stack, passives, certs, tmp_path)
        # Assert: both unfinished rows aborted with the reason; every party back where it was.
        rows = {r.id: r for r in client.list()}
        assert list(rows) == [trained.id, running.id, queued.id]
        assert rows[trained.id].status == "committed"
        for rid in (running.id, queued.id):
            assert rows[rid].status == "aborted" and rows[rid].error == RESTART_REASON
        assert rows[running.id].digests_before == {p: d for p, (_, d) in before.items()}
        assert rows[running.id].digests_after == rows[running.id].digests_before
        status = {p.party_id: (p.version, p.digest) for p in client.status().parties}
        assert status == before
        assert party_states(passives, certs) == {p: before[p] for p in passives}
        # The journal rows are intact: what was submitted is still there, under the same keys.
        kept = [(r.kind, r.classes, r.method, r.idempotency_key) for r in rows.values()]
        assert kept == [
            ("train", [], "", "train-1"),
            ("unlearn", [3], "retrain", "forget-3"),
            ("unlearn", [5], "luv", "forget-5"),
        ]
        assert rows[running.id].created_at == running.created_at
        assert rows[running.id].started_at > 0
        assert client.submit_unlearn([3], "retrain", idempotency_key="forget-3").id == running.id

    # The committed train's receipt survives the crash and verifies; aborted rows have none.
    state, out = tmp_path / "state", tmp_path / "receipt.json"
    runner = CliRunner()
    export = ["receipt", "export", trained.id, "--state-dir", str(state), "--out", str(out)]
    assert runner.invoke(app, export).exit_code == 0
    verify = runner.invoke(
        app, ["receipt", "verify", str(out), "--key", str(state / PUBLIC_KEY_FILE)]
    )
    assert verify.exit_code == 0 and trained.id in verify.output
    no_receipt = runner.invoke(app, [*export[:2], running.id, *export[3:]])
    assert no_receipt.exit_code == 2 and "aborted" in no_receipt.output
    journal = SqliteJournal(state / JOURNAL_FILE)
    assert [r.status for r in journal.all()] == ["committed", "aborted", "aborted"]
    journal.close()
