"""Assembles the ``vfl`` command groups; each command lives in its own module."""

from __future__ import annotations

from typing import Annotated

import typer

from vfl.cli import audit, certs, operator, serve, simulate
from vfl.cli.align import align
from vfl.cli.errors import OneLineErrors, one_line_warnings
from vfl.cli.logs import LogFormat, LogLevel, configure_logging
from vfl.cli.predict import predict
from vfl.cli.receipt import receipt_app
from vfl.cli.repair import repair

app = typer.Typer(
    name="vfl",
    cls=OneLineErrors,
    help="Vertical federated learning with privacy-preserving label unlearning.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion (bash, zsh, fish, powershell)
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
    log_level: Annotated[
        LogLevel | None,
        typer.Option(
            envvar="VFL_LOG_LEVEL",
            case_sensitive=False,
            help="Log level on stderr (default: warning; info for `vfl serve`).",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Errors only in the logs.")] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option(envvar="VFL_LOG_FORMAT", help="text, or json: one object a line."),
    ] = LogFormat.text,
) -> None:
    """Vertical federated learning with privacy-preserving label unlearning.

    Results go to stdout; progress, warnings and logs to stderr. Exit codes: 0 ok,
    1 a request that ran and failed, 2 bad usage or input, 130 interrupted.
    """
    configure_logging(log_level, verbose, quiet, log_format)


def main() -> None:
    one_line_warnings()
    app(prog_name="vfl")
