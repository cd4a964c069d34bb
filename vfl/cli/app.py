"""Assembles the ``vfl`` command groups; each command lives in its own module."""

from __future__ import annotations

from typing import Annotated

import typer

from vfl.cli import audit, certs, operator, serve, simulate
from vfl.cli.align import align
from vfl.cli.errors import OneLineErrors, one_line_warnings
from vfl.cli.predict import predict
from vfl.cli.receipt import receipt_app
from vfl.cli.repair import repair

app = typer.Typer(
    name="vfl",
    cls=OneLineErrors,
    help="Vertical federated learning with privacy-preserving label unlearning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command(name="simulate")(simulate.simulate)
app.command(name="audit")(audit.audit)
app.add_typer(serve.serve_app, name="serve")
app.add_typer(certs.certs_app, name="certs")
app.command(name="align")(align)
app.command(name="train")(operator.train)
app.command(name="unlearn")(operator.unlearn)
app.add_typer(operator.requests_app, name="requests")
app.command(name="status")(operator.status)
app.command(name="predict")(predict)
app.add_typer(receipt_app, name="receipt")
app.command(name="repair")(repair)


def _print_version(value: bool) -> None:
    if value:
        from vfl import __version__

        typer.echo(f"vfl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version."
        ),
    ] = False,
) -> None:
    """Vertical federated learning with privacy-preserving label unlearning."""


def main() -> None:
    one_line_warnings()
    app(prog_name="vfl")
