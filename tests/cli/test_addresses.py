"""Addresses gRPC would misread are refused up front: one line, exit 2, nothing started."""

from __future__ import annotations

import subprocess
import sys

import pytest

SERVE = ["serve", "passive", "--party-id", "passive-0", "--insecure"]


def vfl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vfl", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([*SERVE, "--listen", "50062"], "invalid listen: address '50062' needs HOST:PORT"),
        ([*SERVE, "--listen", "127.0.0.1:99999"], "the port must be a number from 0 to 65535"),
        ([*SERVE, "--listen", "127.0.0.1:http"], "the port must be a number"),
        (["status", "--coordinator", "localhost"], "address 'localhost' needs HOST:PORT"),
        (["status", "--coordinator", "localhost:0"], "a number from 1 to 65535"),
        (["requests", "list", "--coordinator", "h:70000"], "a number from 1 to 65535"),
    ],
)
def test_bad_addresses_exit_2_with_one_error_line(args: list[str], message: str) -> None:
    done = vfl(*args, *([] if args[0] == "serve" else ["--insecure"]))
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if not line.startswith("vfl: warning:")]
    assert errors == [errors[0]] and errors[0].startswith("vfl: error: "), done.stderr
    assert message in errors[0]
    assert "Traceback" not in done.stderr and "Value error" not in done.stderr
