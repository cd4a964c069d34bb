"""Registry of transports: name -> ``open(spec, dataset) -> ContextManager[Coordinator]``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from vfl.coordinator import Coordinator
from vfl.data.base import Dataset
from vfl.errors import ConfigError
from vfl.federation import FederationSpec

__all__ = ["TransportFactory", "open_federation", "register_transport", "transport_names"]

TransportFactory = Callable[[FederationSpec, Dataset], AbstractContextManager[Coordinator]]
_TRANSPORTS: dict[str, TransportFactory] = {}


def register_transport(name: str) -> Callable[[TransportFactory], TransportFactory]:
    def wrap(factory: TransportFactory) -> TransportFactory:
        _TRANSPORTS[name] = factory
        return factory

    return wrap


def transport_names() -> list[str]:
    return sorted(_TRANSPORTS)


def open_federation(
    name: str, spec: FederationSpec, dataset: Dataset
) -> AbstractContextManager[Coordinator]:
    if name not in _TRANSPORTS:
        raise ConfigError(
            f"unknown transport {name!r}; choose one of: {', '.join(transport_names())}"
        )
    return _TRANSPORTS[name](spec, dataset)
