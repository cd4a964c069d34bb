"""A server never shares its port: a second one on the same address exits 2 with one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from vfl.federation import FederationSpec
from vfl.grpc.local import federation_args
from vfl.grpc.processes import serve_command

SPEC = FederationSpec(dataset="digits", parties=2, seed=0)
pytestmark = pytest.mark.slow


def _passive(listen: str, certs: Path) -> list[str]:
    return serve_command(
        "passive", "--party-id", "passive-0", "--listen", listen, "--parties", "2",
        "--certs", str(certs), "--identity", "passive-0", *federation_args(SPEC),
    )  # fmt: skip


def _active(listen: str, certs: Path, passives: dict[str, str], state: Path) -> list[str]:
    """An active server; it connects to the live passive parties first, then binds. Its
    state dir is new while the session's parties may hold versions: ``--new-history``."""
    wired = [arg for pid, target in passives.items() for arg in ("--passive", f"{pid}={target}")]
    return serve_command(
        "active", "--listen", listen, *wired, "--certs", str(certs), "--identity", "active",
        "--state-dir", str(state), "--new-history", *federation_args(SPEC),
    )  # fmt: skip


@pytest.mark.parametrize("role", ["passive", "active"])
def test_second_server_on_an_occupied_port_exits_2_with_one_line(
    role: str, passive_server, passives: dict[str, str], certs: Path, tmp_path: Path
) -> None:
    """The port of a live passive party (another process) is refused, whatever the role."""
    target = passive_server.target
    command = (
        _passive(target, certs) if role == "passive" else _active(target, certs, passives, tmp_path)
    )
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"vfl: error: cannot listen on {passive_server.target}")
    assert "in use" in lines[0]


def test_the_first_server_still_answers(passive_server) -> None:
    """Its connections were never split with the refused one."""
    client = passive_server.client()
    assert client.info().party_id == "passive-0"
    client.close()
