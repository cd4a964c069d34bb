"""A real passive server process per party, shared by the gRPC tests.

The certificates come from ``tests.fixtures.pki`` (a root ``pytest_plugins`` entry).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.pki import SPEC
from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.local import LOOPBACK, spawn_passive
from vfl.grpc.processes import terminate_all
from vfl.grpc.tls import TLSConfig


@dataclass
class Server:
    target: str
    certs: Path

    def client(self, identity: str = "active", certs: Path | None = None) -> GrpcPassiveClient:
        tls = TLSConfig(certs=certs or self.certs, identity=identity)
        return GrpcPassiveClient("passive-0", self.target, tls, timeout=30)


@pytest.fixture(scope="session")
def passives(certs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``vfl serve passive`` for every party of SPEC, with mutual TLS, on free ports."""
    workdir = tmp_path_factory.mktemp("passives")
    with ExitStack() as stack:
        children = [spawn_passive(stack, SPEC, p, certs, workdir) for p in SPEC.party_ids()]
        stack.callback(terminate_all, children)
        targets = {c.name: f"{LOOPBACK}:{c.port()}" for c in children}
        for party_id, target in targets.items():
            probe = GrpcPassiveClient(party_id, target, TLSConfig(certs=certs, identity="active"))
            probe.wait_ready(60)
            probe.close()
        yield targets


@pytest.fixture(scope="session")
def passive_server(passives: dict[str, str], certs: Path) -> Server:
    """passive-0 of the shared federation."""
    return Server(passives["passive-0"], certs)
