"""``HOST:PORT`` addresses, checked before gRPC sees them.

gRPC is lenient in ways that surprise operators: ``localhost`` dials port 443,
a port of 99999 wraps around, and ``50062`` with no host fails deep inside the
C core. Every address a vfl process listens on or dials passes through
:func:`check_address` first and is refused with one clear line.
"""

from __future__ import annotations

from vfl.errors import ConfigError

__all__ = ["check_address", "host_and_port"]

MAX_PORT = 65_535


def check_address(address: str, *, listen: bool = False) -> str:
    """``address`` if it is ``HOST:PORT`` with a port in range (0 only to listen), else raise."""
    host, sep, port = address.rpartition(":")
    lowest = 0 if listen else 1
    example = "127.0.0.1:50051" if not listen else "0.0.0.0:50051 (port 0: any free port)"
    if not sep or not host.strip("[]"):
        raise ConfigError(f"address {address!r} needs HOST:PORT, e.g. {example}")
    if not port.isdigit() or not lowest <= int(port) <= MAX_PORT:
        raise ConfigError(
            f"address {address!r}: the port must be a number from {lowest} to {MAX_PORT}"
        )
    return address


def host_and_port(address: str, *, listen: bool = False) -> tuple[str, int]:
    """The host (without IPv6 brackets) and port of a checked ``address``."""
    host, _, port = check_address(address, listen=listen).rpartition(":")
    return host.strip("[]"), int(port)
