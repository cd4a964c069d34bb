"""gRPC status codes <-> vfl errors, converted at exactly one boundary each way.

Servers wrap every handler in :func:`rpc_boundary`, which turns a
:class:`~vfl.errors.VFLError` into a status code with its message. Clients pass
every :class:`grpc.RpcError` through :func:`from_rpc_error`, so callers only
ever see :class:`RemoteCallError` subclasses (which are ``VFLError``\\ s, so the
CLI prints them as one line).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from vfl.errors import (
    ProtocolError,
    UnknownRequestError,
    UnknownSampleError,
    VFLError,
    WireFormatError,
)
from vfl.protocol.errors import code_of

__all__ = [
    "PartyUnavailableError",
    "PeerRejectedError",
    "RemoteCallError",
    "RemoteNotFoundError",
    "RemoteProtocolError",
    "UnknownRequestError",
    "WireFormatError",
    "from_rpc_error",
    "rpc_boundary",
    "status_of",
]

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


class RemoteCallError(VFLError):
    """A call to another process failed; ``code`` is the gRPC status."""

    def __init__(self, message: str, code: grpc.StatusCode) -> None:
        super().__init__(message)
        self.code = code


class PartyUnavailableError(RemoteCallError):
    """The peer cannot be reached, or the TLS handshake failed."""


class PeerRejectedError(RemoteCallError):
    """The peer refused our identity (wrong certificate or role)."""


class RemoteProtocolError(RemoteCallError, ProtocolError):
    """The peer rejected the request's content or its state does not allow it."""


class RemoteNotFoundError(RemoteCallError, UnknownSampleError):
    """The peer does not know a sample ID (or request id) we sent."""


# Server side: the one table of vfl.protocol.errors, as gRPC status codes.

# Client side.
_ERROR_OF: dict[grpc.StatusCode, type[RemoteCallError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: RemoteProtocolError,
    grpc.StatusCode.FAILED_PRECONDITION: RemoteProtocolError,
    grpc.StatusCode.ALREADY_EXISTS: RemoteProtocolError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: RemoteProtocolError,
    grpc.StatusCode.NOT_FOUND: RemoteNotFoundError,
    grpc.StatusCode.UNAVAILABLE: PartyUnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: PartyUnavailableError,
    grpc.StatusCode.UNAUTHENTICATED: PeerRejectedError,
    grpc.StatusCode.PERMISSION_DENIED: PeerRejectedError,
}

_HINTS: dict[type[RemoteCallError], str] = {
    PartyUnavailableError: " -- is it running, and do both sides use certificates from one CA?",
    PeerRejectedError: " -- check --certs and --identity",
}


def status_of(exc: Exception) -> grpc.StatusCode:
    return grpc.StatusCode[code_of(exc)]


def rpc_boundary(handler: F) -> F:
    """Decorate a servicer method ``(self, request, context)``: errors become status codes."""

    @functools.wraps(handler)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return handler(self, request, context)
        except VFLError as exc:
            context.abort(status_of(exc), str(exc))
        except Exception:
            log.exception("unexpected error in %s", handler.__name__)
            context.abort(grpc.StatusCode.INTERNAL, f"internal error in {handler.__name__}")

    return wrapper  # type: ignore[return-value]


def from_rpc_error(exc: grpc.RpcError, peer: str) -> RemoteCallError:
    """The one place a client turns a raw gRPC error into a vfl error."""
    code = exc.code() if isinstance(exc, grpc.Call) else grpc.StatusCode.UNKNOWN
    cls = _ERROR_OF.get(code, RemoteCallError)
    details = (exc.details() if isinstance(exc, grpc.Call) else None) or str(exc)
    return cls(f"{peer}: {details} ({code.name}){_HINTS.get(cls, '')}", code)
