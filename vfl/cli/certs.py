"""``vfl certs init``: a CA and one key/certificate per party and operator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vfl.cli.errors import friendly_errors
from vfl.grpc.certs import CA_NAME, bundle_identities, init_certs

__all__ = ["certs_app"]

certs_app = typer.Typer(help="Certificates for mutual TLS.", no_args_is_help=True)


@certs_app.command("init")
@friendly_errors
def init(
    out: Annotated[Path, typer.Option(help="Empty folder to create the CA and certificates in.")],
    party: Annotated[
        list[str] | None, typer.Option(help="A party identity (passive-0, active); repeat.")
    ] = None,
    operator: Annotated[
        list[str] | None, typer.Option(help="An operator identity (e.g. admin); repeat.")
    ] = None,
    days: Annotated[int, typer.Option(help="Validity in days.", min=1)] = 365,
    keep_existing: Annotated[
        bool, typer.Option(help="Do nothing if OUT already holds a CA (for re-run jobs).")
    ] = False,
    bundles: Annotated[
        bool,
        typer.Option(
            help="Also write OUT/NAME/ per identity (ca.crt, NAME.crt, NAME.key): the one "
            "folder each organisation mounts."
        ),
    ] = False,
) -> None:
    """Create ca.crt/ca.key and NAME.crt/NAME.key for every --party and --operator."""
    if keep_existing and (out / f"{CA_NAME}.key").exists():
        typer.echo(f"{out} already holds a CA; keeping it")
        return
    paths = init_certs(out, party or [], operator or [], days)
    typer.echo(f"wrote {len(paths)} files to {out}")
    if bundles:
        folders = bundle_identities(out, [*(party or []), *(operator or [])])
        typer.echo(f"one folder per identity: {', '.join(str(f) for f in folders)}")
    typer.echo(f"keep {out / 'ca.key'} offline; give each process only its own NAME.key")
