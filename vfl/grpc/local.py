"""The "grpc" transport: K passive party servers on loopback, mutual TLS, real processes.

``vfl simulate --transport grpc`` runs through this. Each passive party is its
own ``vfl serve passive`` process rebuilding its shard from the
:class:`FederationSpec` (so the dataset must be one the spec can load); the
coordinator and the active party stay in this process and reach the parties
through :class:`GrpcPassiveClient`. Certificates live in a temp dir that is
deleted with the processes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

from vfl.coordinator import Coordinator
from vfl.data.base import Dataset
from vfl.federation import FederationSpec, build_active_party, check_remote_parties
from vfl.grpc.certs import init_certs
from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.processes import ChildServer, serve_command, spawned, terminate_all
from vfl.grpc.tls import TLSConfig

__all__ = ["federation_args", "local_grpc_federation", "spawn_passive"]

LOOPBACK = "127.0.0.1"
REMOTE = "the grpc transport runs each party in its own process"


def federation_args(spec: FederationSpec) -> list[str]:
    """The ``vfl serve`` options that rebuild ``spec`` (the active server counts ``--passive``)."""
    args = [
        "--dataset", spec.dataset,
        "--model", spec.model.reference(REMOTE),
        "--embed-dim", str(spec.model.embed_dim),
        "--hidden", str(spec.model.hidden),
        "--top-hidden", str(spec.top_hidden),
        "--seed", str(spec.seed),
    ]  # fmt: skip
    return args + (["--data-dir", str(spec.data_dir)] if spec.data_dir is not None else [])


def party_threads(parties: int) -> int:
    """Torch threads per party process: this host's cores split among all K+1 processes.

    The K passive parties compute at the same time, and this process (active
    party, coordinator, one gRPC client thread per party) works alongside
    them. With more threads than that share, idle OpenMP workers must be
    woken for every small operation after each wait for the network: on 2
    cores a 128x64 embed+backward took 2-3x longer with 2 threads than with
    1 whenever calls were spaced apart, as they are between RPCs.
    """
    return max(1, (os.cpu_count() or 1) // (parties + 1))


def tls_args(tls: TLSConfig) -> list[str]:
    if tls.insecure:
        return ["--insecure"]
    return ["--certs", str(tls.certs), "--identity", tls.identity]


def spawn_passive(
    stack: ExitStack,
    spec: FederationSpec,
    party_id: str,
    certs: Path,
    workdir: Path,
    extra: list[str] | None = None,
) -> ChildServer:
    """Start ``vfl serve passive`` for ``party_id``; it is torn down with ``stack``."""
    command = serve_command(
        "passive", "--party-id", party_id, "--parties", str(spec.parties),
        "--listen", f"{LOOPBACK}:0",
        *federation_args(spec), *tls_args(TLSConfig(certs=certs, identity=party_id)),
        *(extra or []),
    )  # fmt: skip
    return stack.enter_context(
        spawned(command, workdir, party_id, threads=party_threads(spec.parties))
    )


@contextmanager
def local_grpc_federation(spec: FederationSpec, dataset: Dataset) -> Iterator[Coordinator]:
    """Yield a coordinator whose passive parties are separate server processes."""
    check_remote_parties(spec, dataset, REMOTE)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(TemporaryDirectory(prefix="vfl-grpc-")))
        certs = workdir / "certs"
        init_certs(certs, [*spec.party_ids(), "active"], [])
        tls = TLSConfig(certs=certs, identity="active")
        children = [spawn_passive(stack, spec, p, certs, workdir) for p in spec.party_ids()]
        stack.callback(terminate_all, children)  # runs first on exit: stop all in parallel
        clients = []
        for child in children:  # all start in parallel; now wait for each
            client = GrpcPassiveClient(child.name, f"{LOOPBACK}:{child.port()}", tls)
            stack.callback(client.close)
            clients.append(client)
        for client in clients:
            client.wait_ready()
        active = build_active_party(spec, [c.info().embed_dim for c in clients], dataset)
        yield stack.enter_context(Coordinator(active, clients).running())
