"""The `vfl` entry point (``python -m vfl``) prints each warning and each error as one line."""

from __future__ import annotations

import subprocess
import sys


def test_insecure_warning_and_connection_error_are_one_line_each() -> None:
    """Nothing listens on port 1: one warning for --insecure, one error, exit code 2."""
    args = ["status", "--insecure", "--coordinator", "127.0.0.1:1"]
    proc = subprocess.run(
        [sys.executable, "-m", "vfl", *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    warning, error = proc.stderr.splitlines()
    assert warning.startswith("vfl: warning: --insecure: gRPC runs WITHOUT TLS")
    assert error.startswith("vfl: error: coordinator at 127.0.0.1:1")
