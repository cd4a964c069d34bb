"""Registry of transports: name -> ``open(spec, dataset) -> ContextManager[Coordinator]``.

The built-in transports are listed as ``"module:attribute"`` and imported on
first use, so listing the names (``vfl --help``) imports no torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, TypeAlias

from vfl.errors import ConfigError

if TYPE_CHECKING:
    from vfl.coordinator import Coordinator
    from vfl.data.base import Dataset
    from vfl.federation import FederationSpec

__all__ = ["TransportFactory", "open_federation", "register_transport", "transport_names"]

TransportFactory: TypeAlias = (
    "Callable[[FederationSpec, Dataset], AbstractContextManager[Coordinator]]"
)
_TRANSPORTS: dict[str, TransportFactory] = {}
_LAZY: dict[str, str] = {
    # name -> "module:attribute", imported on first use: optional extras stay optional
    # and listing the names stays cheap
    "inprocess": "vfl.transport.inprocess:inprocess_federation",
    "grpc": "vfl.grpc.local:local_grpc_federation",
    "flower": "vfl.flower.local:local_flower_federation",
}
_EXTRAS = {"flower": "vfl[flower]"}  # the transports an optional extra provides


def register_transport(name: str) -> Callable[[TransportFactory], TransportFactory]:
    def wrap(factory: TransportFactory) -> TransportFactory:
        _TRANSPORTS[name] = factory
        return factory

    return wrap


def transport_names() -> list[str]:
    return sorted(set(_TRANSPORTS) | set(_LAZY))


def _load_lazy(name: str) -> None:
    module_name, attr = _LAZY[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f"; install its extra: pip install '{_EXTRAS[name]}'" if name in _EXTRAS else ""
        raise ConfigError(f"transport {name!r} is not available ({exc}){hint}") from exc
    _TRANSPORTS.setdefault(name, getattr(module, attr))


def open_federation(
    name: str, spec: FederationSpec, dataset: Dataset
) -> AbstractContextManager[Coordinator]:
    if name not in _TRANSPORTS and name in _LAZY:
        _load_lazy(name)
    if name not in _TRANSPORTS:
        raise ConfigError(
            f"unknown transport {name!r}; choose one of: {', '.join(transport_names())}"
        )
    return _TRANSPORTS[name](spec, dataset)
