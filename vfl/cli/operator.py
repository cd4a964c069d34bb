"""Operator commands against a running coordinator: train, unlearn, requests, status.

Each command gets an open :class:`~vfl.grpc.operator.CoordinatorClient` from
:func:`~vfl.cli.options.with_coordinator` (which adds the connection options);
``--wait`` follows a request live (progress bars) and ends with its result,
exit code 1 if it was aborted; ``unlearn --wait`` also exits 1 when the request
committed short of its own forget target (it still commits: the models forgot
part of the class, and restoring them would undo that; the record says how far
short it stopped, and the operator can send a stronger request).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.table import Table

from vfl.atomic import check_writable
from vfl.cli.errors import EXIT_FAILED, fail, friendly_errors
from vfl.cli.options import (
    IdempotencyKeyOpt,
    MethodOptionOpt,
    PrintJsonOpt,
    QuietOpt,
    RequestIdArg,
    WaitOpt,
    parse_method_options,
    read_ids,
    with_coordinator,
)
from vfl.cli.receipt import write_receipt
from vfl.cli.render import parties_table, progress_bars, results_table, stdout, target_line
from vfl.errors import ConfigError
from vfl.grpc.operator import CoordinatorClient
from vfl.report import dumps, stamped
from vfl.txn.records import REQUEST_UNLEARN_SETTINGS, RequestRecord, StatusReport
from vfl.unlearning import method_names

__all__ = ["requests_app", "status", "train", "unlearn"]


def _print_json(data: BaseModel | list[RequestRecord]) -> None:
    """``--json``: records as the coordinator sent them, one JSON document on stdout.

    A single record or report carries the report header; a list stays a list of
    records (scripts index it), each record as ``requests show --json`` prints it.
    """
    if isinstance(data, list):
        typer.echo(dumps([r.model_dump() for r in data]), nl=False)
    else:
        typer.echo(dumps(stamped(data.model_dump())), nl=False)


def _follow(client: CoordinatorClient, record: RequestRecord, quiet: bool) -> RequestRecord:
    """Draw progress until the request ends; return its final record."""
    with progress_bars(enabled=not quiet) as progress:
        for event in client.watch(record.id):
            if isinstance(event, RequestRecord):
                record = event
            else:
                progress(event)
    if not record.done:  # the stream ended early: the coordinator is shutting down
        raise fail(
            f"request {record.id} is {record.status}: the coordinator ended the watch; "
            f"see `vfl requests show {record.id}`",
            EXIT_FAILED,
        )
    return record


def _finish(
    client: CoordinatorClient, record: RequestRecord, wait: bool, quiet: bool
) -> RequestRecord:
    typer.echo(record.id)
    if not wait:
        return record
    record = _follow(client, record, quiet)
    if record.status != "committed":
        raise fail(f"request {record.id} {record.status}: {record.error}", EXIT_FAILED)
    return record


@friendly_errors
@with_coordinator
def train(
    client: CoordinatorClient,
    epochs: Annotated[int, typer.Option(help="Training epochs.", min=1)] = 5,
    relearn: Annotated[
        list[int] | None,
        typer.Option(help="A forgotten class to learn again (journaled); repeat for several."),
    ] = None,
    idempotency_key: IdempotencyKeyOpt = "",
    wait: WaitOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train the federation (committed on every party when it succeeds).

    Samples of forgotten classes stay out of training unless ``--relearn`` names them.
    """
    submitted = client.submit_train(epochs, idempotency_key, relearn or [])
    record = _finish(client, submitted, wait, quiet)
    if wait:
        stdout.print(f"test accuracy {100 * record.after.get('test_acc', float('nan')):.2f}%")


_SERVER_DEFAULT = " Default: the server's (vfl serve active)."
ForgetSamplesOpt = Annotated[
    int | None, typer.Option(help="Few-shot forget samples per class." + _SERVER_DEFAULT)
]
RecoverySamplesOpt = Annotated[
    int | None, typer.Option(help="Recovery samples per retained class." + _SERVER_DEFAULT)
]
UnlearnEpochsOpt = Annotated[
    int | None, typer.Option(help="Upper bound on unlearning epochs." + _SERVER_DEFAULT)
]
UnlearnLrOpt = Annotated[
    float | None, typer.Option(help="Unlearning learning rate (Adam)." + _SERVER_DEFAULT)
]
"""``vfl simulate``'s unlearning settings, per request: unset ones are not sent, so the
request runs with the server's (simulate's are typed with their defaults, so not shared)."""


@friendly_errors
@with_coordinator
def unlearn(
    client: CoordinatorClient,
    unlearn_class: Annotated[
        list[str] | None,
        typer.Option(
            "--class",
            "--unlearn-class",
            help="Class to forget, by name as the label file writes it or by index; repeat.",
        ),
    ] = None,
    ids: Annotated[
        Path | None,
        typer.Option(
            help="Sample-level: forget the labels of these training samples (one ID per "
            "line), e.g. a customer who withdrew consent. They never train again.",
        ),
    ] = None,
    method: Annotated[
        str,
        typer.Option(help=f"One of: {', '.join(method_names())} (luv with --ids: luv-samples)."),
    ] = "luv",
    method_option: MethodOptionOpt = None,
    forget_samples: ForgetSamplesOpt = None,
    recovery_samples: RecoverySamplesOpt = None,
    unlearn_epochs: UnlearnEpochsOpt = None,
    unlearn_lr: UnlearnLrOpt = None,
    idempotency_key: IdempotencyKeyOpt = "",
    wait: WaitOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Forget classes (or samples, --ids) on every party: all commit, or all are restored.

    Method options and unlearning settings are as for simulate; the coordinator checks them.
    """
    if bool(unlearn_class) == (ids is not None):
        raise ConfigError(
            "name the classes to forget (--class) or the samples (--ids), one of them"
        )
    options = parse_method_options(method_option)
    samples = read_ids(ids) if ids is not None else []
    asked = {
        "forget_samples": forget_samples,
        "recovery_per_class": recovery_samples,
        "epochs": unlearn_epochs,
        "lr": unlearn_lr,
    }
    submitted = client.submit_unlearn(
        unlearn_class or [], method, idempotency_key, samples, method_options=options,
        unlearn_config={k: v for k, v in asked.items() if v is not None},
    )  # fmt: skip
    record = _finish(client, submitted, wait, quiet)
    if wait:
        stdout.print(results_table(_table_report(record, client.status())))
        if (line := target_line(record.after)) is not None:
            stdout.print(line)
        if record.after.get("target_reached") is False:
            raise typer.Exit(EXIT_FAILED)


def _table_report(record: RequestRecord, status: StatusReport) -> dict[str, Any]:
    """The shape :func:`vfl.cli.render.results_table` draws: before vs after."""
    names = status.class_names
    return {
        "dataset": status.dataset,
        "parties": len(record.digests_before) - 1,
        "classes_forgotten": list(record.classes),
        "class_names": list(names),
        "scope": "samples" if record.samples else "classes",
        "samples_forgotten": len(record.samples),
        "method": record.method,
        "original": {k: v for k, v in record.before.items() if k != "seconds"},
        "unlearned": record.after,
    }


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def _requests_table(records: list[RequestRecord]) -> Table:
    table = Table(title="requests")
    for col in ("id", "kind", "status", "classes", "method", "created (UTC)", "error"):
        table.add_column(col)
    for r in records:
        classes = ",".join(map(str, r.classes)) or "-"
        table.add_row(r.id, r.kind, r.status, classes, _method(r), _when(r.created_at), r.error)
    return table


def _method(record: RequestRecord) -> str:
    """``luv-hidden margin=3.0 --unlearn-epochs=5``: the method with the options and the
    unlearn settings it was asked to run with (settings by flag: both may have an lr)."""
    options = [f"{k}={json.dumps(v)}" for k, v in record.method_options.items()]
    return " ".join([record.method or "-", *options, *_settings(record)])


def _settings(record: RequestRecord) -> list[str]:
    """``["--unlearn-epochs=5"]``: the unlearn settings it overrode, as the flags that set them."""
    return [
        f"{REQUEST_UNLEARN_SETTINGS.get(k, k)}={json.dumps(v)}"
        for k, v in record.unlearn_config.items()
    ]


requests_app = typer.Typer(help="Inspect train and unlearn requests.", no_args_is_help=True)


@requests_app.command("list")
@friendly_errors
@with_coordinator
def list_requests(
    client: CoordinatorClient,
    as_json: PrintJsonOpt = False,
) -> None:
    """All requests, oldest first (queued ones included)."""
    records = client.list()
    if as_json:
        _print_json(records)
    else:
        stdout.print(_requests_table(records))


@requests_app.command("show")
@friendly_errors
@with_coordinator
def show_request(
    client: CoordinatorClient,
    request_id: RequestIdArg,
    as_json: PrintJsonOpt = False,
    receipt: Annotated[
        Path | None,
        typer.Option(help="Also write its signed receipt here (JSON); committed requests only."),
    ] = None,
) -> None:
    """One request with its metrics and per-party digests before and after."""
    if receipt is not None:
        check_writable(receipt)  # before anything is fetched
    record, signed = client.get_with_receipt(request_id)
    if receipt is not None:
        write_receipt(receipt, record.id, record.status, signed)
    if as_json:
        _print_json(record)
        return
    stdout.print(_requests_table([record]))
    if record.unlearn_config:  # the table's column may cut them short
        stdout.print("unlearn settings: " + " ".join(_settings(record)))
    if record.kind == "unlearn" and record.after:
        stdout.print(results_table(_table_report(record, client.status())))
    for party, digest in record.digests_after.items():
        stdout.print(f"{party}: {record.digests_before.get(party, '-')[:12]} -> {digest[:12]}")


@friendly_errors
@with_coordinator
def status(
    client: CoordinatorClient,
    as_json: PrintJsonOpt = False,
) -> None:
    """Every party's reachability, model version and digest; the running request."""
    report = client.status()
    if as_json:
        _print_json(report)
        return
    title = f"{report.dataset} · running: {report.running or '-'} · queued: {report.queued}"
    stdout.print(parties_table(report.parties, title))
    stdout.print(_federation_line(report))


def _federation_line(report: StatusReport) -> str:
    """Alignment and the tombstones, with class names as the label file wrote them."""
    names = report.class_names or [str(c) for c in range(report.num_classes)]
    aligned = (
        f"aligned: {report.train_samples} train, {report.test_samples} test"
        + (f", {report.score_samples} score" if report.score_samples else "")
        + " samples"
        if report.aligned
        else "not aligned: run `vfl align`"
    )
    forgotten = ", ".join(f"{c} ({names[c]})" for c in report.forgotten) or "none"
    n = report.forgotten_samples
    samples = f" · forgotten samples: {n}" if n else ""
    return f"{aligned} · classes: {', '.join(names)} · forgotten: {forgotten}{samples}"
