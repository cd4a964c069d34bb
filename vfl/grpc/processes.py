"""Launching party servers as child processes and always tearing them down.

A child binds port 0 (the OS picks a free port) and writes the port to a
ready file; :func:`spawned` waits for that file, yields the port, and on exit
-- normal, exception or Ctrl-C -- sends SIGTERM, waits, then SIGKILLs (see
:mod:`vfl.processes`, shared with the Flower launcher). The child runs in its
own session so a terminal's Ctrl-C reaches only us, and it exits by itself if
we die (``--exit-with-parent``).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc

from vfl.grpc.errors import PartyUnavailableError
from vfl.processes import child_env, log_tail, signal_group, start_child, stop_children

__all__ = ["ChildServer", "serve_command", "spawned", "stop_process", "terminate_all"]


def serve_command(*args: str) -> list[str]:
    """``vfl serve ARGS`` run by this interpreter (works without the console script)."""
    return [sys.executable, "-m", "vfl.cli.serve", *args]


@dataclass
class ChildServer:
    """A started server process; :meth:`port` waits until it serves."""

    name: str
    proc: subprocess.Popen
    ready: Path
    log: Path
    timeout: float

    def port(self) -> int:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.ready.exists() and self.ready.read_text().strip():
                return int(self.ready.read_text())
            if self.proc.poll() is not None:
                raise PartyUnavailableError(
                    f"{self.name} exited with code {self.proc.returncode} before serving:\n"
                    + log_tail(self.log),
                    grpc.StatusCode.UNAVAILABLE,
                )
            time.sleep(0.05)
        raise PartyUnavailableError(
            f"{self.name} not ready after {self.timeout:.0f}s:\n{log_tail(self.log)}",
            grpc.StatusCode.UNAVAILABLE,
        )


def stop_process(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL."""
    stop_children([proc], grace)


def terminate_all(children: list[ChildServer]) -> None:
    """SIGTERM every child at once, so their shutdowns overlap (each exit then just waits)."""
    for child in children:
        if child.proc.poll() is None:
            signal_group(child.proc, signal.SIGTERM)


@contextmanager
def spawned(
    command: list[str],
    workdir: Path,
    name: str,
    timeout: float = 120.0,
    threads: int | None = None,
    cwd: Path | None = None,
) -> Iterator[ChildServer]:
    """Start ``command --ready-file F --exit-with-parent``; stop it when the block exits.

    ``threads`` caps the child's torch/OpenMP threads (see :func:`vfl.processes.child_env`);
    ``cwd`` is where it runs (a party's own folder), ``workdir`` where its log goes.
    """
    ready, log = workdir / f"{name}.port", workdir / f"{name}.log"
    ready.unlink(missing_ok=True)
    argv = [*command, "--ready-file", str(ready.absolute()), "--exit-with-parent"]
    proc = start_child(argv, log, env=child_env(threads), cwd=cwd)
    try:
        yield ChildServer(name, proc, ready, log, timeout)
    finally:
        stop_process(proc)
