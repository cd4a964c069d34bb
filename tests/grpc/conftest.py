"""Shared fixtures: one CA (plus a foreign one) and a real passive server process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from vfl.federation import FederationSpec
from vfl.grpc.certs import init_certs
from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.local import LOOPBACK, spawn_passive
from vfl.grpc.tls import TLSConfig

SPEC = FederationSpec(dataset="digits", parties=2, seed=0)


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("certs")
    init_certs(out, ["passive-0", "passive-1", "active"], ["admin"])
    return out


@pytest.fixture(scope="session")
def foreign_certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second CA issuing an 'active' certificate: right name, wrong authority."""
    out = tmp_path_factory.mktemp("foreign")
    init_certs(out, ["active", "passive-0"], [])
    return out


@dataclass
class Server:
    target: str
    certs: Path

    def client(self, identity: str = "active", certs: Path | None = None) -> GrpcPassiveClient:
        tls = TLSConfig(certs=certs or self.certs, identity=identity)
        return GrpcPassiveClient("passive-0", self.target, tls, timeout=30)


@pytest.fixture(scope="session")
def passive_server(certs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``vfl serve passive`` for passive-0 of SPEC, with mutual TLS, on a free port."""
    workdir = tmp_path_factory.mktemp("passive")
    with ExitStack() as stack:
        child = spawn_passive(stack, SPEC, "passive-0", certs, workdir)
        server = Server(f"{LOOPBACK}:{child.port()}", certs)
        probe = server.client()
        probe.wait_ready(60)
        probe.close()
        yield server
