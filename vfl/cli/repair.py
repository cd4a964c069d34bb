"""``vfl repair``: put every party back on one model version.

Requests are refused while the parties disagree on their version (e.g. one
fell back to an older checkpoint because its newest file was corrupt). This
asks the coordinator to roll every party back to the newest version all of
them hold, then prints where each party is.
"""

from __future__ import annotations

import typer

from vfl.cli.errors import friendly_errors
from vfl.cli.options import PrintJsonOpt, with_coordinator
from vfl.cli.render import parties_table, stdout
from vfl.grpc.operator import CoordinatorClient
from vfl.report import dumps, stamped

__all__ = ["repair"]


@friendly_errors
@with_coordinator
def repair(client: CoordinatorClient, as_json: PrintJsonOpt = False) -> None:
    """Roll every party back to the newest model version all of them hold."""
    version, status = client.repair()
    parties = status.parties
    if as_json:
        body = {"version": version, "parties": [p.model_dump() for p in parties]}
        typer.echo(dumps(stamped(body)), nl=False)
        return
    stdout.print(parties_table(parties, f"every party at v{version}"))
