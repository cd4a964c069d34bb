"""Logs: the root's ``--log-level``/``-v``/``-q``/``--log-format``, and each request's lifecycle.

The coordinator logs accept / begin / phases / prepare / decision / commit or
abort with the request id at INFO (from the runner, the service layer: the
core stays free of logging about requests).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from tests.fixtures.cli import run_vfl
from tests.fixtures.operator_client import ScriptedClient
from vfl.coordinator import Coordinator
from vfl.federation import FederationSpec
from vfl.progress import ProgressEvent
from vfl.transport import open_federation
from vfl.txn.journal import MemoryJournal
from vfl.txn.records import RequestRecord, StatusReport
from vfl.txn.runner import RequestRunner

SPEC = FederationSpec(dataset="digits", parties=2, seed=0)


class LoggingClient(ScriptedClient):
    """``status`` logs one line at each level, as library code would."""

    def status(self) -> StatusReport:
        log = logging.getLogger("vfl.test")
        log.debug("a debug line")
        log.info("an info line")
        log.warning("a warning line")
        log.error("an error line")
        return super().status()


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.mark.parametrize(
    ("flags", "shown"),
    [
        ([], ["a warning line", "an error line"]),
        (["-v"], ["a debug line", "an info line", "a warning line", "an error line"]),
        (["-q"], ["an error line"]),
        (["--log-level", "info"], ["an info line", "a warning line", "an error line"]),
        (["--log-level", "INFO", "-q"], ["an info line", "a warning line", "an error line"]),
    ],
)
def test_log_level_flags_choose_what_reaches_stderr(
    monkeypatch: pytest.MonkeyPatch, flags: list[str], shown: list[str]
) -> None:
    monkeypatch.setattr("vfl.cli.options.CoordinatorClient", LoggingClient)
    result = run_vfl(*flags, "status", "--insecure")
    assert result.exit_code == 0, result.stderr
    logged = [line.split(" ", 4)[-1] for line in result.stderr.splitlines()]
    assert logged == shown
    assert "a warning line" not in result.stdout  # logs never mix with results


def test_json_log_format_is_one_object_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vfl.cli.options.CoordinatorClient", LoggingClient)
    result = run_vfl("--log-format", "json", "status", "--insecure")
    assert result.exit_code == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(e["level"], e["logger"], e["message"]) for e in entries] == [
        ("warning", "vfl.test", "a warning line"),
        ("error", "vfl.test", "an error line"),
    ]
    assert entries[0]["time"].endswith("+00:00")


def _train_work(co: Coordinator):
    def work(record: RequestRecord, progress) -> dict:
        progress(ProgressEvent("train", 1, 2))
        progress(ProgressEvent("train", 2, 2))
        co.reinitialize(1)
        return {}

    return work


def _failing_work(_record: RequestRecord, _progress) -> dict:
    raise RuntimeError("passive-1 went away")


def test_the_runner_logs_each_request_lifecycle_with_its_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="vfl.txn.runner")
    with open_federation("inprocess", SPEC, SPEC.load()) as co:
        runner = RequestRunner(co, MemoryJournal(), lambda: None)
        ok = runner.submit(RequestRecord(id="", kind="train", epochs=2), _train_work(co))
        list(runner.watch(ok.id))  # until it ends: one request at a time keeps the order fixed
        unlearn = RequestRecord(id="", kind="unlearn", classes=[3], method="luv")
        bad = runner.submit(unlearn, _failing_work)
        list(runner.watch(bad.id))
        runner.shutdown()
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        ("INFO", f"request {ok.id} accepted: train, 2 epochs"),
        ("INFO", f"request {ok.id}: begin on every party"),
        ("INFO", f"request {ok.id}: phase train"),
        ("INFO", f"request {ok.id}: prepare"),
        ("INFO", f"request {ok.id}: decided, committing"),
        ("INFO", f"request {ok.id} committed"),
        ("INFO", f"request {bad.id} accepted: unlearn [3] with luv"),
        ("INFO", f"request {bad.id}: begin on every party"),
        ("WARNING", f"request {bad.id} aborted: RuntimeError: passive-1 went away"),
    ]


def test_a_passive_server_logs_the_commit_verbs_with_their_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from parties.passive_server import _log_lifecycle
    from vfl.protocol.messages import Begin, Commit, Embed, Prepare

    caplog.set_level(logging.INFO, logger="parties.passive_server")
    _log_lifecycle([Begin("r1"), Embed(["a"], False), Prepare("r1"), Commit("r1")], 4)
    assert [r.getMessage() for r in caplog.records] == [
        "request r1: begin done (version 4)",
        "request r1: prepare done (version 4)",
        "request r1: commit done (version 4)",
    ]


def test_a_server_started_without_the_root_options_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from vfl.cli import logs

    logging.getLogger().removeHandler(logs._handler)  # as in a fresh `python -m vfl.cli.serve`
    monkeypatch.setenv("VFL_LOG_FORMAT", "json")
    logs.server_logging()
    logging.getLogger("parties.test").info("ready")
    assert json.loads(capsys.readouterr().err)["message"] == "ready"  # INFO: a server's default

    logging.getLogger().removeHandler(logs._handler)
    monkeypatch.setenv("VFL_LOG_LEVEL", "error")
    logs.server_logging()
    logging.getLogger("parties.test").warning("hidden")
    assert capsys.readouterr().err == ""
