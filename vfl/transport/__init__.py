"""Transports: how the coordinator reaches passive parties.

Each transport is a context manager factory registered by name; it yields a
ready :class:`~vfl.coordinator.Coordinator` and tears everything down on exit
(including on errors and Ctrl-C). Simulation and benchmarks pick one by name.
"""

from vfl.transport.registry import TRANSPORTS, open_federation, transport_names

__all__ = ["TRANSPORTS", "open_federation", "transport_names"]
