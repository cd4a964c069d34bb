"""``vfl receipt export|verify``: get a committed request's signed receipt, and check one.

``export`` reads the coordinator's journal file, so it runs where the active
party's ``--state-dir`` is; ``vfl requests show ID --receipt FILE`` fetches the
same receipt over the operator API, from anywhere. Both write the file with
:func:`write_receipt`, so the two files are byte-identical. ``verify`` needs
only the receipt and the coordinator's public key (``coordinator.pub.pem`` in
that state dir).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from vfl.atomic import check_writable, write_atomic
from vfl.cli.errors import friendly_errors
from vfl.cli.options import RequestIdArg
from vfl.errors import VFLError
from vfl.txn.receipts import load_public_key, read_receipt, verify_receipt

__all__ = ["receipt_app", "write_receipt"]

receipt_app = typer.Typer(help="Signed receipts of committed requests.", no_args_is_help=True)


def write_receipt(out: Path, request_id: str, status: str, receipt: dict[str, Any] | None) -> None:
    """Write ``receipt`` to ``out`` atomically, or say why the request has none."""
    if receipt is None:
        why = (
            "only committed requests have receipts"
            if status != "committed"
            else "the coordinator keeps no journal to sign with (start it with --state-dir)"
        )
        raise VFLError(f"request {request_id} is {status}: no receipt; {why}")
    text = json.dumps(receipt, indent=2, sort_keys=True) + "\n"
    write_atomic(out, lambda fh: fh.write(text.encode()))


@receipt_app.command("verify")
@friendly_errors
def verify(
    file: Annotated[Path, typer.Argument(help="The receipt (JSON).")],
    key: Annotated[Path, typer.Option(help="The coordinator's public key (PEM).")],
) -> None:
    """Check a receipt's Ed25519 signature: exit 0 if valid, one error line and exit 2 if not."""
    payload = verify_receipt(read_receipt(file), load_public_key(key))
    classes = ",".join(map(str, payload.get("classes", []))) or "-"
    typer.echo(
        f"valid: request {payload.get('request_id')} ({payload.get('kind')}, "
        f"classes {classes}, {payload.get('status')})"
    )


@receipt_app.command("export")
@friendly_errors
def export(
    request_id: RequestIdArg,
    state_dir: Annotated[Path, typer.Option(help="The active party's --state-dir.")],
    out: Annotated[Path, typer.Option(help="Where to write the receipt (JSON).")],
) -> None:
    """Write the signed receipt of a committed request (on the coordinator's host)."""
    from vfl.txn.sqlite import JOURNAL_FILE, SqliteJournal

    check_writable(out)  # before the journal is opened

    path = state_dir / JOURNAL_FILE
    if not path.exists():
        raise VFLError(f"no request journal at {path}; is this the active party's --state-dir?")
    journal = SqliteJournal(path)
    try:
        record, receipt = journal.get(request_id), journal.receipt(request_id)
    finally:
        journal.close()
    if record is None:
        raise VFLError(f"no request {request_id!r} in {path}")
    write_receipt(out, request_id, record.status, receipt)
    typer.echo(str(out))
