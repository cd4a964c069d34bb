"""The `vfl` entry point (``python -m vfl``) prints each warning and each error as one line."""

from __future__ import annotations

import subprocess
import sys

from tests.fixtures.cli import run_vfl

ARGS = ["status", "--insecure", "--coordinator", "127.0.0.1:1"]
"""Nothing listens on port 1: one warning for --insecure, one error, exit code 2."""


def test_insecure_warning_and_connection_error_are_one_line_each() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "vfl", *ARGS], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    warning, error = proc.stderr.splitlines()
    assert warning.startswith("vfl: warning: --insecure: gRPC runs WITHOUT TLS")
    assert error.startswith("vfl: error: coordinator at 127.0.0.1:1")
    # The in-process runner the other CLI tests use prints exactly what the process does,
    # so their "one line on stderr" checks would see a stray warning too.
    in_process = run_vfl(*ARGS)
    assert (in_process.exit_code, in_process.stderr) == (2, proc.stderr)
