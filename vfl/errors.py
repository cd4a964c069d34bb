"""The error hierarchy of vfl.

Every error a user can cause derives from :class:`VFLError`; its message says
what went wrong and, where there is one, what to do about it. The CLI turns a
``VFLError`` into one line on stderr and exit code 2, the gRPC layer into a
status code -- library code never has to know which.
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "FencedError",
    "IdempotencyConflictError",
    "ProtocolError",
    "ResourceLimitError",
    "UnknownRequestError",
    "UnknownSampleError",
    "VFLError",
    "WireFormatError",
]


class VFLError(Exception):
    """Root of every error vfl raises on purpose."""


class ConfigError(VFLError, ValueError):
    """A setting is invalid (unknown name, out of range, inconsistent)."""


class DataError(VFLError):
    """A data file is missing, unreadable, or not in the expected format."""


class ProtocolError(VFLError):
    """A party was asked to do something its state does not allow.

    Example: ``backward`` for IDs that were not the last ``embed(train=True)``.
    """


class FencedError(ProtocolError):
    """A party refused a coordinator other than the one it is bound to."""


class WireFormatError(ProtocolError):
    """A message is malformed: wrong dtype, shape, byte size, type, or duplicate IDs."""


class UnknownSampleError(VFLError, KeyError):
    """A sample ID is not held by this party."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "unknown sample id"


class UnknownRequestError(VFLError):
    """No unlearning or training request has this id."""


class IdempotencyConflictError(VFLError):
    """An idempotency key already names a request with other parameters."""


class ResourceLimitError(VFLError):
    """A bounded resource (e.g. live watchers of requests) is in full use; retry later."""


class CheckpointError(VFLError):
    """A checkpoint is missing, corrupt, or does not match the model."""
