"""Shared fixtures: a small trained digits federation, built once per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from vfl.coordinator import Coordinator, TrainConfig
from vfl.data import Dataset
from vfl.federation import FederationSpec, build_active_party, build_passive_party
from vfl.grpc.local import LOOPBACK, federation_args, tls_args
from vfl.grpc.processes import ChildServer, serve_command, spawned
from vfl.grpc.tls import TLSConfig
from vfl.protocol.client import InProcessClient, RecordingClient

ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"

FAST_TRAIN = TrainConfig(epochs=8, batch_size=64)


@pytest.fixture(scope="session")
def digits_spec() -> FederationSpec:
    return FederationSpec(dataset="digits", parties=2, seed=0)


@pytest.fixture(scope="session")
def digits(digits_spec: FederationSpec) -> Dataset:
    return digits_spec.load()


def build_recorded(
    spec: FederationSpec, dataset: Dataset
) -> tuple[Coordinator, list[RecordingClient]]:
    """An in-process federation whose passive-party traffic is recorded."""
    clients = [
        RecordingClient(InProcessClient(build_passive_party(spec, pid, dataset)))
        for pid in spec.party_ids()
    ]
    active = build_active_party(spec, [c.inner.info().embed_dim for c in clients], dataset)
    return Coordinator(active, clients), clients


@pytest.fixture(scope="session")
def trained_state(digits_spec: FederationSpec, digits: Dataset) -> dict:
    """Weights of a digits federation trained for a few epochs (reused by many tests)."""
    co, _ = build_recorded(digits_spec, digits)
    co.train(digits.train_ids, FAST_TRAIN, seed=0)
    state = {c.party_id: c.inner._party.state_dict() for c in co.clients}
    state["active"] = co.active.state_dict()
    co.close()
    return state


@pytest.fixture
def trained(
    digits_spec: FederationSpec, digits: Dataset, trained_state: dict
) -> Iterator[tuple[Coordinator, list[RecordingClient]]]:
    """A fresh recorded federation loaded with the trained weights."""
    co, clients = build_recorded(digits_spec, digits)
    for c in clients:
        c.inner._party.load_state_dict(trained_state[c.party_id])
    co.active.load_state_dict(trained_state["active"])
    clients_calls_reset(clients)
    yield co, clients
    co.close()


def clients_calls_reset(clients: list[RecordingClient]) -> None:
    for c in clients:
        c.calls.clear()


def _spawn_active(
    stack: ExitStack,
    spec: FederationSpec,
    passives: dict[str, str],
    certs: Path,
    workdir: Path,
    *extra: str,
) -> ChildServer:
    """``vfl serve active`` on a free port with ``workdir/state`` (SQLite journal, receipts)."""
    command = serve_command(
        "active", "--listen", f"{LOOPBACK}:0", "--state-dir", str(workdir / "state"),
        *[arg for p, target in passives.items() for arg in ("--passive", f"{p}={target}")],
        *federation_args(spec), *tls_args(TLSConfig(certs=certs, identity="active")), *extra,
    )  # fmt: skip
    return stack.enter_context(spawned(command, workdir, "active"))


@pytest.fixture(scope="session")
def spawn_active() -> Callable[..., ChildServer]:
    """Starts real active party processes; shared so test areas do not each copy it."""
    return _spawn_active
