"""Receipts: a valid one verifies; any changed field, or another key, is detected (lib and CLI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vfl.cli.app import app
from vfl.txn.receipts import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    ReceiptError,
    key_id,
    load_or_create_key,
    load_public_key,
    receipt_payload,
    verify_receipt,
)
from vfl.txn.records import RequestRecord
from vfl.txn.sqlite import SqliteJournal

COMMITTED = RequestRecord(
    id="abc123", kind="unlearn", status="committed", classes=[3], method="luv",
    created_at=1.0, started_at=2.0, finished_at=3.0,
    before={"test_acc": 0.97}, after={"test_acc": 0.9, "forgotten_acc": 0.0},
    digests_before={"passive-0": "d0", "passive-1": "d1", "active": "da"},
    digests_after={"passive-0": "e0", "passive-1": "e1", "active": "ea"},
)  # fmt: skip


@pytest.fixture
def signed(tmp_path: Path) -> tuple[dict, Path]:
    """A receipt as the journal stores it for a committed row, and the public key's path."""
    state = tmp_path / "state"
    journal = SqliteJournal.in_state_dir(state)
    journal.put(COMMITTED)
    receipt = journal.receipt(COMMITTED.id)
    journal.close()
    assert receipt is not None
    return receipt, state / PUBLIC_KEY_FILE


def test_a_committed_row_gets_a_receipt_that_verifies(signed, tmp_path: Path) -> None:
    receipt, key = signed
    assert verify_receipt(receipt, load_public_key(key)) == receipt_payload(COMMITTED)
    assert (key.parent / PRIVATE_KEY_FILE).stat().st_mode & 0o077 == 0  # owner only
    # the key is kept across restarts: the same public key signs later receipts
    assert load_or_create_key(key.parent).public_key() == load_public_key(key)


def _tamper(payload: dict, field: str) -> None:
    value = payload[field]
    if isinstance(value, dict) and value:
        inner = next(iter(value))
        value[inner] = "tampered" if not isinstance(value[inner], dict) else {"x": 1}
    elif isinstance(value, list):
        value.append(7)
    elif isinstance(value, str):
        payload[field] = value + "x"
    else:
        payload[field] = value + 1


@pytest.mark.parametrize("field", sorted(receipt_payload(COMMITTED)))
def test_any_tampered_field_is_detected(signed, field: str) -> None:
    receipt, key = signed
    _tamper(receipt["payload"], field)
    with pytest.raises(ReceiptError, match="invalid signature"):
        verify_receipt(receipt, load_public_key(key))


def test_another_key_or_a_forged_key_id_is_detected(signed, tmp_path: Path) -> None:
    receipt, _ = signed
    other = load_or_create_key(tmp_path / "other").public_key()
    with pytest.raises(ReceiptError, match="another key"):
        verify_receipt(receipt, other)
    receipt["key_id"] = key_id(other)  # claim the other key: the signature still fails
    with pytest.raises(ReceiptError, match="invalid signature"):
        verify_receipt(receipt, other)


def test_cli_verify_exit_codes(signed, tmp_path: Path) -> None:
    receipt, key = signed
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(receipt))
    receipt["payload"]["classes"] = [4]
    bad.write_text(json.dumps(receipt))
    other = tmp_path / "other"
    load_or_create_key(other)
    runner = CliRunner()

    def verify(path: Path, pub: Path):
        return runner.invoke(app, ["receipt", "verify", str(path), "--key", str(pub)])

    ok = verify(good, key)
    assert ok.exit_code == 0 and "valid: request abc123" in ok.output
    for result, reason in (
        (verify(bad, key), "invalid signature"),
        (verify(good, other / PUBLIC_KEY_FILE), "another key"),
        (verify(tmp_path / "missing.json", key), "cannot read receipt"),
    ):
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and reason in lines[0]


def test_a_duplicated_key_is_refused_by_the_real_cli(signed, tmp_path: Path) -> None:
    """``"status": "aborted", "status": "committed"`` verified before: json keeps the last key.

    Run as a real ``python -m vfl`` process, as a verifier would."""
    receipt, key = signed
    text = json.dumps(receipt, sort_keys=True)
    assert '"status": "committed"' in text
    forged = tmp_path / "forged.json"
    forged.write_text(
        text.replace('"status": "committed"', '"status": "aborted", "status": "committed"')
    )
    proc = subprocess.run(
        [sys.executable, "-m", "vfl", "receipt", "verify", str(forged), "--key", str(key)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "duplicate key 'status'" in lines[0], proc.stderr


def test_an_existing_public_key_is_never_replaced(signed, tmp_path: Path) -> None:
    """Issue 14 #6: the public key verifies issued receipts; a new key must not replace it."""
    _, pub = signed
    kept = pub.read_bytes()
    (pub.parent / PRIVATE_KEY_FILE).rename(tmp_path / "key.backup")  # the private key is lost
    with pytest.raises(ReceiptError, match="is missing but its public key"):
        load_or_create_key(pub.parent)
    assert not (pub.parent / PRIVATE_KEY_FILE).exists() and pub.read_bytes() == kept
    other = load_or_create_key(tmp_path / "other")  # a key that is not the pair of pub
    (tmp_path / "other" / PRIVATE_KEY_FILE).rename(pub.parent / PRIVATE_KEY_FILE)
    with pytest.raises(ReceiptError, match="never replaced"):
        load_or_create_key(pub.parent)
    assert pub.read_bytes() == kept and load_public_key(pub) != other.public_key()
