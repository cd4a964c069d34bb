"""A real-process federation whose parties can be SIGKILLed and restarted at will.

Passive parties restart on the port they first got from the OS, so the running
coordinator reaches them again; every process persists to its own state dir.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from parties.passive_server import KILL_ENV
from vfl.federation import FederationSpec
from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.local import LOOPBACK, federation_args, tls_args
from vfl.grpc.operator import CoordinatorClient
from vfl.grpc.processes import ChildServer, serve_command, spawned, terminate_all
from vfl.grpc.tls import TLSConfig
from vfl.txn.pause import PAUSE_ENV
from vfl.txn.records import RequestRecord

SPEC = FederationSpec(dataset="digits", parties=2, seed=0)
HOSTILE = Path(__file__).resolve().parent.parent / "fixtures" / "hostile_serve.py"
FSIZE_WRAPPER = (
    "import resource, runpy, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
    "limit = int(sys.argv.pop(1)); resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)); "
    "runpy.run_module('vfl.cli.serve', run_name='__main__', alter_sys=True)"
)
"""Runs ``vfl serve`` unable to write files above a size (a full disk, as far as it can tell)."""


@contextmanager
def env(**values: str) -> Iterator[None]:
    """Children inherit ``os.environ``: set variables only while one is spawned."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Federation:
    """Two passive parties and the active server, all real processes with mTLS on loopback."""

    def __init__(self, stack: ExitStack, certs: Path, workdir: Path) -> None:
        self.stack, self.certs, self.workdir = stack, certs, workdir
        self.pause_dir = workdir / "pause"
        self.pause_dir.mkdir()
        self.ports: dict[str, int] = {}
        self.children: dict[str, ChildServer] = {}
        self.client: CoordinatorClient | None = None
        for party_id in SPEC.party_ids():
            self.start_passive(party_id, wait=False)
        for party_id in SPEC.party_ids():
            self.ports[party_id] = self.children[party_id].port()
        self.start_active()

    # -- processes -----------------------------------------------------------
    @property
    def targets(self) -> dict[str, str]:
        return {p: f"{LOOPBACK}:{port}" for p, port in self.ports.items()}

    def start_passive(
        self,
        party_id: str,
        wait: bool = True,
        kill_at_train_embed: int = 0,
        fsize: int = 0,
        lying: Path | None = None,
    ) -> ChildServer:
        """(Re)start a passive party on its first port, persisting to ``workdir/<party_id>``.

        ``lying``: its embeddings lie as that file says (``tests/fixtures/hostile_serve.py``).
        """
        port = self.ports.get(party_id, 0)
        command = serve_command(
            "passive", "--party-id", party_id, "--parties", str(SPEC.parties),
            "--listen", f"{LOOPBACK}:{port}", "--state-dir", str(self.workdir / party_id),
            *federation_args(SPEC), *tls_args(TLSConfig(certs=self.certs, identity=party_id)),
        )  # fmt: skip
        name = party_id
        if fsize:  # a fresh log name: the size limit applies to the log file too
            command = [sys.executable, "-c", FSIZE_WRAPPER, str(fsize), *command[3:]]
            name = f"{party_id}-fsize"
        if lying is not None:
            command = [sys.executable, str(HOSTILE), str(lying), *command[3:]]
            name = f"{party_id}-lying"
        with env(**({KILL_ENV: str(kill_at_train_embed)} if kill_at_train_embed else {})):
            child = self.stack.enter_context(spawned(command, self.workdir, name))
        self.children[party_id] = child
        if wait:
            assert child.port() == self.ports[party_id]
            self.wait_reachable()
        return child

    def wait_reachable(self, timeout: float = 90.0) -> None:
        """Until the coordinator reaches every party again (gRPC reconnects with a backoff)."""
        if self.client is None or self.children["active"].proc.poll() is not None:
            return
        deadline = time.monotonic() + timeout
        while not all(p.reachable for p in self.client.status().parties):
            assert time.monotonic() < deadline, "the coordinator does not reach every party"
            time.sleep(0.2)

    def start_active(self) -> CoordinatorClient:
        command = serve_command(
            "active", "--listen", f"{LOOPBACK}:0", "--state-dir", str(self.workdir / "active"),
            "--batch-size", "256", "--unlearn-epochs", "3",  # short requests: kills are the point
            *[arg for p, target in self.targets.items() for arg in ("--passive", f"{p}={target}")],
            *federation_args(SPEC), *tls_args(TLSConfig(certs=self.certs, identity="active")),
        )  # fmt: skip
        with env(**{PAUSE_ENV: str(self.pause_dir)}):
            child = self.stack.enter_context(spawned(command, self.workdir, "active"))
        self.children["active"] = child
        self.coordinator = f"{LOOPBACK}:{child.port()}"
        if self.client is not None:
            self.client.__exit__()
        self.client = CoordinatorClient(
            self.coordinator, TLSConfig(certs=self.certs, identity="admin")
        )
        return self.client

    def second_active(self, state_dir: Path | None, *extra: str) -> list[str]:
        """``vfl serve active`` against this federation's parties, beside its coordinator
        (tests of what a second, stray or restarted one does at start)."""
        state = ["--state-dir", str(state_dir)] if state_dir else []
        return serve_command(
            "active", "--listen", f"{LOOPBACK}:0", *state, *extra,
            *[arg for p, target in self.targets.items() for arg in ("--passive", f"{p}={target}")],
            *federation_args(SPEC), *tls_args(TLSConfig(certs=self.certs, identity="active")),
        )  # fmt: skip

    def kill(self, name: str) -> None:
        """SIGKILL: no chance to clean up."""
        proc = self.children[name].proc
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)

    def restart_dead(self, name: str) -> None:
        """Start a killed process again (a passive party on its old port)."""
        if name == "active":
            self.start_active()
        else:
            self.start_passive(name)

    def close(self) -> None:
        if self.client is not None:
            self.client.__exit__()
        terminate_all(list(self.children.values()))

    # -- the test hook and requests --------------------------------------------
    def arm(self, point: str) -> None:
        for suffix in ("reached", "go"):
            (self.pause_dir / f"{point}.{suffix}").unlink(missing_ok=True)
        (self.pause_dir / f"{point}.armed").touch()

    def wait_paused(self, point: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not (self.pause_dir / f"{point}.reached").exists():
            assert time.monotonic() < deadline, f"the coordinator never reached {point}"
            assert self.children["active"].proc.poll() is None, "the coordinator died"
            time.sleep(0.05)

    def resume(self, point: str) -> None:
        (self.pause_dir / f"{point}.go").touch()

    def final(self, request_id: str, timeout: float = 180.0) -> RequestRecord:
        """The request's record once it is committed or aborted."""
        assert self.client is not None
        deadline = time.monotonic() + timeout
        while not (record := self.client.get(request_id)).done:
            assert time.monotonic() < deadline, f"request {request_id} still {record.status}"
            time.sleep(0.1)
        return record

    def states(self) -> dict[str, tuple[int, str]]:
        """Every party's (version, digest): passive ones asked directly, the active via status."""
        out = {}
        for party_id, target in self.targets.items():
            client = GrpcPassiveClient(
                party_id, target, TLSConfig(certs=self.certs, identity="active")
            )
            info = client.info()
            client.close()
            out[party_id] = (info.version, info.digest)
        assert self.client is not None
        active = next(p for p in self.client.status().parties if p.party_id == "active")
        out["active"] = (active.version, active.digest)
        return out

    def commit_train(self) -> RequestRecord:
        """One committed 1-epoch train request (a known good version to start from)."""
        assert self.client is not None
        record = self.final(self.client.submit_train(1).id)
        assert record.status == "committed", record.error
        return record


def one_version(states: dict[str, tuple[int, str]]) -> int:
    """The invariant's first half: every party at one version (returned)."""
    versions = {version for version, _ in states.values()}
    assert len(versions) == 1, f"parties at different versions: {states}"
    return versions.pop()


def digests(states: dict[str, tuple[int, str]]) -> dict[str, str]:
    return {party: digest for party, (_, digest) in states.items()}
