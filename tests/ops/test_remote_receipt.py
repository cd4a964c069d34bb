"""``vfl requests show ID --receipt FILE``: the signed receipt over gRPC, from anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from vfl.cli.app import app
from vfl.txn.receipts import PUBLIC_KEY_FILE
from vfl.txn.records import RequestRecord

RUNNER = CliRunner()


def vfl(federation, *args: str) -> Result:
    """The operator CLI in this process (it still talks to the server over mTLS)."""
    return RUNNER.invoke(app, list(args), env=federation.env())


def assert_no_receipt(federation, request_id: str, status: str, out: Path) -> None:
    result = vfl(federation, "requests", "show", request_id, "--receipt", str(out))
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"is {status}" in result.stderr and "no receipt" in result.stderr
    assert not out.exists()


@pytest.mark.slow
def test_remote_receipt_verifies_and_is_the_exported_one(federation, tmp_path) -> None:
    # Prepare: one committed request.
    with federation.client() as client:
        train = client.submit_train(1, idempotency_key="train-1")
    committed = federation.wait_done(train.id)
    assert committed.status == "committed", committed.error
    remote, exported = tmp_path / "remote.json", tmp_path / "exported.json"
    key = federation.state_dir / PUBLIC_KEY_FILE

    # Execute: fetch it over gRPC, and export it from the journal file on the coordinator's host.
    shown = vfl(federation, "requests", "show", train.id, "--receipt", str(remote), "--json")
    export = vfl(
        federation, "receipt", "export", train.id,
        "--state-dir", str(federation.state_dir), "--out", str(exported),
    )  # fmt: skip

    # Assert: the same bytes, a valid signature, and it vouches for what `show` printed.
    assert shown.exit_code == 0, shown.output
    assert export.exit_code == 0, export.output
    assert remote.read_bytes() == exported.read_bytes()
    verify = vfl(federation, "receipt", "verify", str(remote), "--key", str(key))
    assert verify.exit_code == 0 and train.id in verify.stdout, verify.output
    payload = json.loads(remote.read_text())["payload"]
    record = json.loads(shown.stdout)
    assert payload["request_id"] == record["id"] and payload["status"] == "committed"
    assert payload["digests_after"] == record["digests_after"] == committed.digests_after


@pytest.mark.slow
def test_requests_without_a_receipt_are_one_error_line(federation, tmp_path) -> None:
    # Prepare: a long request that is running, one queued behind it, and one committed before.
    with federation.client() as client:
        done = client.submit_train(1)
        assert federation.wait_done(done.id).status == "committed"
        running = client.submit_train(500)
        events = client.watch(running.id)
        next(e for e in events if not isinstance(e, RequestRecord))  # it is mid-request
        queued = client.submit_train(1)
    out = tmp_path / "receipt.json"

    # Execute + Assert: running and queued requests have no receipt yet.
    assert_no_receipt(federation, running.id, "running", out)
    assert_no_receipt(federation, queued.id, "queued", out)

    # A graceful stop aborts both; after a restart they are aborted, with no receipt ever,
    # and the committed request's receipt is still served.
    assert federation.stop_active() == 0
    federation.start_active()
    assert_no_receipt(federation, running.id, "aborted", out)
    assert_no_receipt(federation, queued.id, "aborted", out)
    assert vfl(federation, "requests", "show", done.id, "--receipt", str(out)).exit_code == 0
    key = federation.state_dir / PUBLIC_KEY_FILE
    assert vfl(federation, "receipt", "verify", str(out), "--key", str(key)).exit_code == 0
