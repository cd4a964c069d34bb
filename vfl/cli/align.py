"""``vfl align``: private entity alignment, run by the coordinator.

The active party runs a private set intersection with each passive party
(``docs/psi.md``): IDs that are not shared never leave their owner in the
clear. The federation's samples are the IDs every party holds; the active
party splits them into train and test and tells each party the two ID lists,
nothing else. This prints each party's set size and what they share.
"""

from __future__ import annotations

import typer
from rich.table import Table

from vfl.cli.errors import friendly_errors
from vfl.cli.options import PrintJsonOpt, with_coordinator
from vfl.cli.render import stdout
from vfl.grpc.operator import CoordinatorClient
from vfl.report import dumps, stamped

__all__ = ["align"]


@friendly_errors
@with_coordinator
def align(client: CoordinatorClient, as_json: PrintJsonOpt = False) -> None:
    """Align sample IDs privately (PSI) with every party; training needs it first."""
    reply = client.align()
    report = {
        "active_ids": reply.active_size,
        "party_ids": dict(sorted(reply.party_sizes.items())),
        "shared_with_active": dict(sorted(reply.shared_with_active.items())),
        "aligned": reply.train_samples + reply.test_samples + reply.score_samples,
        "train": reply.train_samples,
        "test": reply.test_samples,
        "score": reply.score_samples,
    }
    if as_json:
        typer.echo(dumps(stamped(report)), nl=False)
        return
    table = Table(title=f"aligned: {report['aligned']} samples held by every party")
    for col in ("party", "own IDs", "shared with active"):
        table.add_column(col, justify="left" if col == "party" else "right")
    table.add_row("active", str(report["active_ids"]), "-")
    for party, size in report["party_ids"].items():
        table.add_row(party, str(size), str(report["shared_with_active"][party]))
    table.caption = f"train {report['train']} · test {report['test']}" + (
        f" · score {report['score']} (no label: predicted, never trained on)"
        if report["score"]
        else ""
    )
    stdout.print(table)
