"""Process handling of the loopback launcher, with real (tiny) processes."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from vfl.flower.client import FlowerTransportError
from vfl.flower.local import LocalDeployment, free_port


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_stop_ends_every_process_and_its_children(tmp_path: Path) -> None:
    dep = LocalDeployment(tmp_path)
    dep.start("sleeper", [sys.executable, "-c", "import time; time.sleep(120)"])
    # a process that starts a grandchild in its process group, as Flower's do
    dep.start(
        "spawner", ["sh", "-c", "sleep 120 & echo $! > child.tmp; mv child.tmp child.pid; wait"]
    )
    pid_file = tmp_path / "child.pid"
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = [p.pid for _, p in dep._procs] + [int(pid_file.read_text())]
    assert all(_alive(pid) for pid in pids)
    dep.stop()
    time.sleep(0.2)  # the grandchild is reaped by init, not by us
    assert not any(_alive(pid) for pid in pids)


def test_check_reports_a_dead_process_with_its_log(tmp_path: Path) -> None:
    dep = LocalDeployment(tmp_path)
    dep.start("crasher", [sys.executable, "-c", "print('boom: bad flag'); raise SystemExit(3)"])
    dep._procs[0][1].wait()
    with pytest.raises(FlowerTransportError, match=r"crasher exited with code 3:\n.*boom"):
        dep.check()
    dep.stop()


def test_wait_for_port_fails_fast_when_the_server_died(tmp_path: Path) -> None:
    dep = LocalDeployment(tmp_path)
    dep.start("superlink", [sys.executable, "-c", "raise SystemExit(1)"])
    dep._procs[0][1].wait()
    with pytest.raises(FlowerTransportError, match="superlink exited"):
        dep.wait_for_port(free_port(), timeout=30)
    dep.stop()
