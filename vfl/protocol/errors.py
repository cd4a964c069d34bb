"""One set of error codes for every transport.

A party's refusal has the same code whether it travelled as a gRPC status,
inside a sealed Flower reply, or not at all (in-process, where the exception
itself is raised). The names are gRPC's status names, because that is the
vocabulary operators and load balancers already know; nothing here imports grpc.
"""

from __future__ import annotations

from vfl.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    IdempotencyConflictError,
    ProtocolError,
    ResourceLimitError,
    UnknownRequestError,
    UnknownSampleError,
    VFLError,
    WireFormatError,
)

__all__ = ["CODES", "INTERNAL", "code_of", "error_from_code"]

INTERNAL = "INTERNAL"
CODES: list[tuple[type[Exception], str]] = [
    # first match wins, so subclasses come before their bases
    (WireFormatError, "INVALID_ARGUMENT"),
    (UnknownSampleError, "NOT_FOUND"),
    (UnknownRequestError, "NOT_FOUND"),
    (ConfigError, "INVALID_ARGUMENT"),
    (IdempotencyConflictError, "ALREADY_EXISTS"),
    (ResourceLimitError, "RESOURCE_EXHAUSTED"),
    (ProtocolError, "FAILED_PRECONDITION"),
    (CheckpointError, "FAILED_PRECONDITION"),
    (DataError, "FAILED_PRECONDITION"),
    (VFLError, "FAILED_PRECONDITION"),
]
_RAISED_AS: dict[str, type[VFLError]] = {
    "INVALID_ARGUMENT": WireFormatError,
    "NOT_FOUND": UnknownSampleError,
    "FAILED_PRECONDITION": ProtocolError,
}


def code_of(exc: BaseException) -> str:
    """The code a party reports for ``exc``; ``INTERNAL`` for anything unexpected."""
    for cls, code in CODES:
        if isinstance(exc, cls):
            return code
    return INTERNAL


def error_from_code(code: str, message: str) -> VFLError:
    """The exception a client raises for a remote refusal with ``code`` (any transport)."""
    return _RAISED_AS.get(code, ProtocolError)(message)
