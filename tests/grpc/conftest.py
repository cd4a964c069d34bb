"""Shared fixtures: one CA (plus a foreign one) and a real passive server process."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from vfl.federation import FederationSpec
from vfl.grpc.certs import init_certs
from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.local import LOOPBACK, spawn_passive
from vfl.grpc.processes import terminate_all
from vfl.grpc.tls import TLSConfig

SPEC = FederationSpec(dataset="digits", parties=2, seed=0)

# `parties` is a root package added after the editable install was made; until
# `pip install -e .` is re-run it imports only from the repository root.
ROOT = Path(__file__).resolve().parents[2]
if importlib.util.find_spec("parties") is None:
    sys.path.insert(0, str(ROOT))


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
