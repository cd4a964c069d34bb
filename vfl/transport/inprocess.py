"""All parties in this process, behind the same client interface as the wire.

Registered as ``"inprocess"`` in :mod:`vfl.transport.registry` (imported on first use).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from vfl.coordinator import Coordinator
from vfl.data.base import Dataset
from vfl.federation import FederationSpec, build_active_party, build_passive_party
from vfl.protocol.client import InProcessClient

__all__ = ["inprocess_federation"]


@contextmanager
def inprocess_federation(spec: FederationSpec, dataset: Dataset) -> Iterator[Coordinator]:
    clients = [InProcessClient(build_passive_party(spec, pid, dataset)) for pid in spec.party_ids()]
    active = build_active_party(spec, [c.info().embed_dim for c in clients], dataset)
    with Coordinator(active, clients).running() as coordinator:
        coordinator.align(spec.seed)  # the PSI path a deployment runs; the index is the same
        yield coordinator
