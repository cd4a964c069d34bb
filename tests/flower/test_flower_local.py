"""Process handling of the loopback launcher, with real (tiny) processes."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from vfl.federation import FederationSpec
from vfl.flower.client import FlowerTransportError
from vfl.flower.local import LocalDeployment, free_port, local_flower_federation


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
    deadline = time.monotonic() + 10  # the grandchild is reaped by init, not by us
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
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


@pytest.mark.slow
def test_a_crashed_party_fails_the_next_call_fast_and_everything_stops(
    live_children: Callable[[], dict[int, str]],
) -> None:
    spec = FederationSpec(dataset="digits", parties=2)
    data = spec.load()
    with (
        pytest.raises(FlowerTransportError, match="worker-passive-1 exited with code -9"),
        local_flower_federation(spec, data) as co,
    ):
        worker = next(p for p, cmd in live_children().items() if "--party-id=passive-1" in cmd)
        os.kill(worker, signal.SIGKILL)
        co.predict(data.test_ids)  # would otherwise wait for the 600 s reply timeout
    assert live_children() == {}
