"""A real federation for the operator tests: passive + active server processes, mTLS, loopback.

Certificates and the active server come from the shared fixtures
(``tests.fixtures``), so nothing here copies them. Each test module
gets its own passive parties, because requests move their versions and a fresh
coordinator must find them where its own checkpoint is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.pki import SPEC
from vfl.grpc.local import LOOPBACK, spawn_passive
from vfl.grpc.operator import CoordinatorClient
from vfl.grpc.processes import ChildServer, stop_process, terminate_all
from vfl.grpc.tls import TLSConfig
from vfl.txn.records import RequestRecord

VFL = Path(sys.executable).with_name("vfl")
"""The installed console script, as operators run it."""


@dataclass
class Federation:
    """Two passive parties and one active party; the active one can be stopped and restarted."""

    stack: ExitStack
    spawn: Callable[..., ChildServer]
    passives: dict[str, str]
    certs: Path
    workdir: Path
    active: ChildServer | None = None

    @property
    def state_dir(self) -> Path:
        return self.workdir / "state"

    @property
    def target(self) -> str:
        assert self.active is not None
        return f"{LOOPBACK}:{self.active.port()}"

    def start_active(self) -> None:
        self.active = self.spawn(
            self.stack, SPEC, self.passives, self.certs, self.workdir, "--unlearn-epochs", "1"
        )
        self.active.port()

    def stop_active(self) -> int:
        """SIGTERM (graceful: the running request is aborted, every party restored).

        The grace before SIGKILL is long because the host may be heavily loaded.
        """
        assert self.active is not None
        stop_process(self.active.proc, grace=90)
        return self.active.proc.returncode

    def client(self) -> CoordinatorClient:
        return CoordinatorClient(self.target, TLSConfig(certs=self.certs, identity="admin"))

    def env(self) -> dict[str, str]:
        """What an operator exports instead of passing the connection flags."""
        return {
            **os.environ,
            "VFL_COORDINATOR": self.target,
            "VFL_CERTS": str(self.certs),
            "VFL_IDENTITY": "admin",
        }

    def vfl(self, *args: str) -> subprocess.Popen[str]:
        """Start the installed ``vfl`` console script (not waited for)."""
        return subprocess.Popen(
            [str(VFL), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
        )

    def wait_done(self, request_id: str) -> RequestRecord:
        """Follow a request over the server stream until it commits or aborts."""
        with self.client() as client:
            return [e for e in client.watch(request_id) if isinstance(e, RequestRecord)][-1]


@pytest.fixture(scope="module")
def federation(
    certs: Path,
    spawn_active: Callable[..., ChildServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Federation]:
    """One federation per test module (starting three processes is most of a test's time)."""
    if not VFL.exists():
        pytest.skip(f"the vfl console script is not installed next to {sys.executable}")
    tmp_path = tmp_path_factory.mktemp("federation")
    with ExitStack() as stack:
        children = [spawn_passive(stack, SPEC, p, certs, tmp_path) for p in SPEC.party_ids()]
        stack.callback(terminate_all, children)
        passives = {c.name: f"{LOOPBACK}:{c.port()}" for c in children}
        fed = Federation(stack, spawn_active, passives, certs, tmp_path)
        fed.start_active()
        yield fed
