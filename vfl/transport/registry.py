"""Registry of transports: name -> ``open(spec, dataset) -> ContextManager[Coordinator]``.

Entry points: ``vfl.transports``. The built-in transports are ``"module:attr"``
references imported on first use, so optional extras stay optional and listing
the names (``vfl --help``) imports no torch.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, TypeAlias

from vfl.registry import Registry

if TYPE_CHECKING:
    from vfl.coordinator import Coordinator
    from vfl.data.base import Dataset
    from vfl.federation import FederationSpec

__all__ = [
    "TRANSPORTS",
    "TransportFactory",
    "open_federation",
    "transport_names",
]

TransportFactory: TypeAlias = (
    "Callable[[FederationSpec, Dataset], AbstractContextManager[Coordinator]]"
)
TRANSPORTS: Registry[TransportFactory] = Registry(
    "transport",
    "vfl.transports",
    {
        "inprocess": "vfl.transport.inprocess:inprocess_federation",
        "grpc": "vfl.grpc.local:local_grpc_federation",
        "flower": "vfl.flower.local:local_flower_federation",
    },
    extras={"flower": "vfl[flower]"},
)
transport_names = TRANSPORTS.names


def open_federation(
    name: str, spec: FederationSpec, dataset: Dataset
) -> AbstractContextManager[Coordinator]:
    """The federation over the transport ``name``: a context manager yielding its coordinator."""
    return TRANSPORTS.get(name)(spec, dataset)
