"""Child processes that never outlive their launcher: start with a log, stop them all.

Both local launchers use this -- the grpc transport's party servers
(:mod:`vfl.grpc.processes`) and the Flower deployment's SuperLink, SuperNodes
and workers (:mod:`vfl.flower.local`). A child gets its own session, so a
terminal's Ctrl-C reaches only the launcher, and its output goes to a log file
whose tail explains a crash. Stopping signals the child's whole process group
(a child's own children go too): SIGTERM to every child at once so their
shutdowns overlap, then SIGKILL for whatever is left after the grace period.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

__all__ = ["child_env", "log_tail", "signal_group", "start_child", "stop_children"]

SERVE_ENV_PREFIX = "VFL_SERVE_"
"""Settings of a hand-started ``vfl serve`` (vfl/cli/serve.py): launched children never
inherit them."""


def child_env(threads: int | None = None, **extra: str) -> dict[str, str]:
    """Our environment for a child that shares this host's cores with its siblings.

    Idle OpenMP workers sleep instead of spinning (spinning workers made
    loopback training ~10x slower on 2 cores), and with ``threads`` each child
    uses that many intra-op threads, so K parties computing at once do not
    oversubscribe the cores. Variables already set in our environment win,
    except ``VFL_SERVE_*``: those configure a server started by hand
    (``vfl serve``), and a launcher configures its children with flags; a
    ``VFL_SERVE_STATE_DIR`` in the operator's shell must not reach the parties
    of a local simulation.
    """
    defaults = {"OMP_WAIT_POLICY": "PASSIVE", **extra}
    if threads is not None:
        defaults["OMP_NUM_THREADS"] = str(max(1, threads))
    ours = {k: v for k, v in os.environ.items() if not k.startswith(SERVE_ENV_PREFIX)}
    return {**defaults, **ours}


def log_tail(path: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of a child's log ('' if it wrote none)."""
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_child(
    argv: Sequence[str],
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    die_with_parent: bool = False,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session, stdout and stderr appended to ``log``.

    ``die_with_parent`` asks the kernel to SIGTERM the child when the thread
    that started it exits (PR_SET_PDEATHSIG) -- use it only when the launching
    thread lives as long as the child should.
    """
    with open(log, "ab") as log_fh:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env if env is not None else child_env(),
            stdin=subprocess.DEVNULL,
            stdout=log_fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if die_with_parent else None,
        )


def signal_group(proc: subprocess.Popen, sig: signal.Signals) -> None:
    """Send ``sig`` to the process group ``proc`` leads, or to ``proc`` if it leads none."""
    with suppress(ProcessLookupError, PermissionError):
        if os.getpgid(proc.pid) != proc.pid:
            proc.send_signal(sig)
            return
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def stop_children(procs: Sequence[subprocess.Popen], grace: float) -> None:
    """SIGTERM every group at once, wait up to ``grace`` s in all, then SIGKILL what is left."""
    for proc in procs:
        signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            signal_group(proc, signal.SIGKILL)
            proc.wait()
        signal_group(proc, signal.SIGKILL)  # stragglers the leader left behind
