"""The grpc transport never leaves party processes behind: not on Ctrl-C, not on a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = """
import time
from vfl.federation import FederationSpec
from vfl.grpc.local import local_grpc_federation

spec = FederationSpec(dataset="digits", parties=1)
with local_grpc_federation(spec, spec.load()) as co:
    co.embed(spec.load().train_ids[:8], train=False)  # the party really serves
    print("ready", flush=True)
    time.sleep(600)
"""


def servers_under(folder: Path) -> list[int]:
    """PIDs of processes whose command line mentions ``folder`` (our party servers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "serve" in cmdline and str(folder) in cmdline:
            pids.append(int(entry.name))
    return pids


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "crash"])
def test_party_processes_exit_with_the_launcher(tmp_path: Path, sig: signal.Signals) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    launcher = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert launcher.stdout.readline().strip() == "ready"
        assert len(servers_under(tmp_path)) == 1
        launcher.send_signal(sig)
        launcher.wait(60)
        assert wait_until(lambda: not servers_under(tmp_path), 40), servers_under(tmp_path)
        if sig == signal.SIGINT:  # a clean exit also removes the certificates and logs
            assert not any(tmp_path.glob("vfl-grpc-*"))
    finally:
        if launcher.poll() is None:
            launcher.kill()
