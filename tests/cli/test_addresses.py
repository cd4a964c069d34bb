"""Addresses gRPC would misread are refused up front: one line, exit 2, nothing started.

The cases run the app in this process (``tests.fixtures.cli``); one of them also runs
through a real ``python -m vfl`` process, the entry point of ``vfl serve``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.fixtures.cli import run_vfl

SERVE = ["serve", "passive", "--party-id", "passive-0", "--insecure"]
CASES = [
    ([*SERVE, "--listen", "50062"], "invalid listen: address '50062' needs HOST:PORT"),
    ([*SERVE, "--listen", "127.0.0.1:99999"], "the port must be a number from 0 to 65535"),
    ([*SERVE, "--listen", "127.0.0.1:http"], "the port must be a number"),
    (["status", "--coordinator", "localhost"], "address 'localhost' needs HOST:PORT"),
    (["status", "--coordinator", "localhost:0"], "a number from 1 to 65535"),
    (["requests", "list", "--coordinator", "h:70000"], "a number from 1 to 65535"),
]


def command_line(args: list[str]) -> list[str]:
    return [*args, *([] if args[0] == "serve" else ["--insecure"])]


def assert_one_error_line(code: int, stderr: str, message: str) -> None:
    assert code == 2, stderr
    errors = [line for line in stderr.splitlines() if not line.startswith("vfl: warning:")]
    assert errors == [errors[0]] and errors[0].startswith("vfl: error: "), stderr
    assert message in errors[0]
    assert "Traceback" not in stderr and "Value error" not in stderr


@pytest.mark.parametrize(("args", "message"), CASES)
def test_bad_addresses_exit_2_with_one_error_line(args: list[str], message: str) -> None:
    result = run_vfl(*command_line(args))
    assert_one_error_line(result.exit_code, result.stderr, message)


def test_the_entry_point_refuses_a_bad_address_the_same_way() -> None:
    args, message = CASES[0]
    done = subprocess.run(
        [sys.executable, "-m", "vfl", *command_line(args)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_one_error_line(done.returncode, done.stderr, message)
