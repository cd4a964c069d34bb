"""Exit codes: 0 ok, 1 a request that ran and failed, 2 bad usage or input, 130 Ctrl-C.

Usage errors are one ``vfl: error:`` line, not typer's boxed panel. One check
goes through a real ``python -m vfl`` process (the entry point); the rest run
the same app in this process against a scripted coordinator client.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.cli import run_vfl
from tests.fixtures.operator_client import TRAIN, ScriptedClient
from vfl.progress import ProgressEvent
from vfl.txn.records import RequestRecord


def test_a_usage_error_is_one_line_and_exit_2_from_the_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "vfl", "simulate", "--no-such-flag"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [proc.stderr.strip()], proc.stderr
    assert proc.stderr.startswith("vfl: error: No such option")
    assert "vfl simulate --help" in proc.stderr and "╭" not in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", "--epochs", "many"], "'many' is not a valid integer"),
        (["simulate", "--parties", "two"], "'two' is not a valid integer"),
        (["requests", "nope"], "No such command 'nope'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], needle: str) -> None:
    result = run_vfl(*args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("vfl: error: ")
    assert needle in result.stderr and "╭" not in result.stderr


def test_no_arguments_shows_the_help_and_exits_2() -> None:
    result = run_vfl()
    assert result.exit_code == 2 and "simulate" in result.stdout


class AbortingClient(ScriptedClient):
    """A coordinator whose train request aborts while the operator waits."""

    def watch(self, _request_id: str) -> Iterator[ProgressEvent | RequestRecord]:
        yield TRAIN.model_copy(update={"status": "aborted", "error": "passive-0 is down"})


class InterruptedClient(ScriptedClient):
    def status(self) -> Any:
        raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("client", "args", "code", "stderr"),
    [
        (ScriptedClient, ["train", "--wait", "--quiet"], 0, ""),
        (
            AbortingClient,
            ["train", "--wait", "--quiet"],
            1,
            "vfl: error: request abc123 aborted: passive-0 is down\n",
        ),
        (InterruptedClient, ["status"], 130, "vfl: interrupted\n"),
    ],
)
def test_request_outcomes_map_to_their_exit_codes(
    monkeypatch: pytest.MonkeyPatch, client: type, args: list[str], code: int, stderr: str
) -> None:
    monkeypatch.setattr("vfl.cli.options.CoordinatorClient", client)
    result = run_vfl(*args, "--insecure")
    assert result.exit_code == code
    assert result.stderr == stderr
