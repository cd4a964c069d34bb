"""The active party's side of a Flower Grid: handshake with every node, then a Coordinator.

:func:`open_grid_federation` turns a Flower ``Grid`` into the same
:class:`~vfl.coordinator.Coordinator` every other transport yields, so the
training and unlearning code is shared. Two things call it: the local
launcher (:mod:`vfl.flower.local`), which hosts the grid in the caller's
process, and the ServerApp for ``flwr run`` on an existing deployment
(:mod:`vfl.flower_serverapp`, outside this package because it runs a whole
simulation, a layer above the transports).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from flwr.serverapp import Grid

from vfl.coordinator import Coordinator
from vfl.data.base import Dataset
from vfl.data.tables import LabelTable
from vfl.errors import ConfigError
from vfl.federation import FederationSpec, build_active_party
from vfl.flower.client import FlowerTransportError, GridLink, connect_party
from vfl.flower.crypto import load_private_key, load_public_key

__all__ = ["ACTIVE", "ActiveKeys", "open_grid_federation"]

ACTIVE = "active"


@dataclass(frozen=True)
class ActiveKeys:
    """The active party's private key and the pinned public key of every passive party."""

    private: X25519PrivateKey
    pinned: dict[str, X25519PublicKey]

    @classmethod
    def load(cls, key_dir: Path, party_ids: list[str]) -> ActiveKeys:
        """``active.key`` plus ``<party>.pub`` for each party, from ``key_dir``."""
        return cls(
            load_private_key(key_dir / f"{ACTIVE}.key"),
            {pid: load_public_key(key_dir / f"{pid}.pub") for pid in party_ids},
        )


def wait_for_nodes(grid: Grid, count: int, timeout: float = 120.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while len(nodes := sorted(grid.get_node_ids())) < count:
        if time.monotonic() > deadline:
            raise FlowerTransportError(
                f"only {len(nodes)} of {count} SuperNodes connected within {timeout:.0f} s"
            )
        time.sleep(0.1)
    return nodes


@contextmanager
def open_grid_federation(
    grid: Grid,
    run_id: int,
    spec: FederationSpec,
    dataset: Dataset | None,
    keys: ActiveKeys,
    check: Callable[[], None] | None = None,
    keep_warm: bool = True,
    labels: LabelTable | None = None,
) -> Iterator[Coordinator]:
    """Handshake with every node, build the active party, yield the coordinator.

    ``check`` is called while waiting for replies and may raise; ``keep_warm``
    keeps the SuperNodes from sleeping between requests (see :class:`GridLink`).
    ``labels``: the active party's own label file instead of the built-in
    ``dataset``; the coordinator is then unaligned until :meth:`Coordinator.align`.
    """
    link = GridLink(grid, check=check, keep_warm=keep_warm)
    with closing(link):  # stops its poller thread
        nodes = wait_for_nodes(grid, spec.parties)
        with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
            found = list(
                pool.map(lambda n: connect_party(link, n, keys.private, keys.pinned, run_id), nodes)
            )
        by_party = {client.party_id: (client, info) for client, info in found}
        if sorted(by_party) != sorted(spec.party_ids()):
            raise ConfigError(
                f"the grid's nodes are parties {sorted(by_party)}, the federation expects "
                f"{spec.party_ids()}; start one SuperNode and worker per party"
            )
        clients = [by_party[pid][0] for pid in spec.party_ids()]
        dims = [by_party[pid][1].embed_dim for pid in spec.party_ids()]
        active = build_active_party(spec, dims, dataset, labels=labels)
        with Coordinator(active, clients).running() as coordinator:
            try:
                yield coordinator
            except BaseException:
                link.abort()  # stop waiting party threads now; skip flushing queued calls
                raise
