"""The shared child-process helper (vfl.processes) with real processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from vfl.grpc.local import party_threads
from vfl.processes import child_env, log_tail, start_child, stop_children

IGNORES_SIGTERM = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(120)\n"
)


def wait_for_line(log: Path, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while text not in log_tail(log):
        assert time.monotonic() < deadline, log_tail(log)
        time.sleep(0.05)


def test_child_env_caps_threads_but_the_callers_setting_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    env = child_env(threads=0)
    assert env["OMP_NUM_THREADS"] == "1"
    assert env["OMP_WAIT_POLICY"] == "PASSIVE"
    assert "OMP_NUM_THREADS" not in child_env()
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert child_env(threads=1)["OMP_NUM_THREADS"] == "3"


def test_children_never_inherit_a_hand_started_servers_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VFL_SERVE_STATE_DIR", "/operators/state")
    monkeypatch.setenv("VFL_SERVE_LISTEN", "0.0.0.0:50051")
    monkeypatch.setenv("VFL_LOG_LEVEL", "debug")
    env = child_env()
    assert not [k for k in env if k.startswith("VFL_SERVE_")]
    assert env["VFL_LOG_LEVEL"] == "debug"  # everything else still passes through


def test_party_threads_share_the_cores_among_parties_and_launcher() -> None:
    assert party_threads(1) >= 1
    assert party_threads(10_000) == 1
    assert party_threads(1) >= party_threads(3)


def test_stop_children_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "stubborn.log"
    proc = start_child([sys.executable, "-c", IGNORES_SIGTERM], log)
    wait_for_line(log, "ready")
    start = time.monotonic()
    stop_children([proc], grace=0.5)
    assert proc.returncode == -9
    assert time.monotonic() - start < 30


def test_stop_children_stops_a_child_outside_its_own_session(tmp_path: Path) -> None:
    """Not a process-group leader: signalled directly, so stopping does not hang."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    stop_children([proc], grace=10)
    assert proc.returncode == -15


def test_log_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "crash.log"
    proc = start_child([sys.executable, "-c", "for i in range(30): print('line', i)"], log)
    proc.wait(30)
    assert log_tail(log, 2) == "line 28\nline 29"
    assert log_tail(tmp_path / "missing.log") == ""
