"""Where party-protocol messages become protobuf messages and back.

The conversion is generic: a request travels as the ``Operation`` oneof field
named by its ``op``, its fields by name (tensors as ``Tensor``, settings as
nested messages, scalars as scalars), and the same for responses in ``Result``.
Checks beyond the byte layout happen in :func:`vfl.protocol.fields.from_parts`,
once for every transport.

The operator API's messages convert in :mod:`vfl.grpc.serde_operator` (no
torch, for the CLI); no other module converts.

Tensors travel as raw little-endian bytes in C order plus dtype and shape --
never pickle. Decoding checks the dtype against an allow-list, the byte count
against the shape, and the element count against a limit, and raises
:class:`~vfl.grpc.errors.WireFormatError` (INVALID_ARGUMENT on the wire) when
any check fails. Decoding makes one copy (``np.frombuffer`` + ``copy``) so the
result is writable and owns its memory.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from vfl.errors import WireFormatError
from vfl.grpc.proto import passive_pb2 as pb
from vfl.protocol.fields import fields_of, from_parts, to_parts
from vfl.protocol.messages import REQUESTS, RESPONSES, Message, Request, Response

__all__ = [
    "DTYPES",
    "MAX_ELEMENTS",
    "decode_call",
    "decode_results",
    "decode_tensor",
    "encode_call",
    "encode_results",
    "encode_tensor",
    "fill_tensor",
]

DTYPES: dict[str, np.dtype] = {"float32": np.dtype("<f4"), "int64": np.dtype("<i8")}
MAX_ELEMENTS = 1 << 24
"""Upper bound on elements per tensor (64 MiB of float32); the gRPC size limit is lower."""
_WIRE_NAMES = {dtype: name for name, dtype in DTYPES.items()}
"""dtype -> wire name, a dict lookup: ``ndarray.dtype.name`` is slow Python code in numpy."""


def encode_tensor(value: torch.Tensor | np.ndarray) -> pb.Tensor:
    """Raw little-endian bytes of ``value`` (float32 or int64) with its dtype and shape."""
    msg = pb.Tensor()
    fill_tensor(msg, value)
    return msg


def fill_tensor(msg: pb.Tensor, value: torch.Tensor | np.ndarray) -> None:
    """Write ``value`` into ``msg`` in place (no intermediate message to copy)."""
    arr = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    name = _WIRE_NAMES.get(arr.dtype)
    if name is None:  # not little-endian float32/int64 already: convert, or refuse
        name = arr.dtype.name
        if name not in DTYPES:
            raise WireFormatError(f"cannot send dtype {name}; allowed: {', '.join(DTYPES)}")
        arr = arr.astype(DTYPES[name])
    msg.dtype = name
    msg.shape[:] = arr.shape
    msg.data = arr.tobytes()  # C order whatever the array's layout


def decode_tensor(
    msg: pb.Tensor, *, dtype: str, ndim: int | None = None, what: str = "tensor"
) -> np.ndarray:
    """A writable array from ``msg``; checks dtype, rank, element count and byte size."""
    if msg.dtype != dtype:
        raise WireFormatError(f"{what} must be {dtype}, got {msg.dtype or 'no dtype'}")
    shape = tuple(msg.shape)
    if ndim is not None and len(shape) != ndim:
        raise WireFormatError(f"{what} must have {ndim} dimension(s), got shape {list(shape)}")
    if shape and min(shape) < 0:
        raise WireFormatError(f"{what} has a negative dimension: {list(shape)}")
    if shape and max(shape) > MAX_ELEMENTS:  # also when another dimension is 0
        raise WireFormatError(f"{what} has a dimension above the limit {MAX_ELEMENTS}")
    n = math.prod(shape)
    if n > MAX_ELEMENTS:
        raise WireFormatError(f"{what} has {n} elements; the limit is {MAX_ELEMENTS}")
    expected = n * DTYPES[dtype].itemsize
    if len(msg.data) != expected:
        raise WireFormatError(
            f"{what} {list(shape)} {dtype} needs {expected} bytes, got {len(msg.data)}"
        )
    return np.frombuffer(msg.data, dtype=DTYPES[dtype]).reshape(shape).copy()


def encode_call(requests: Sequence[Request]) -> pb.CallRequest:
    return pb.CallRequest(ops=[_encode(pb.Operation(), r) for r in requests])


def decode_call(msg: pb.CallRequest) -> list[Request]:
    return [_decode(op, "op", REQUESTS) for op in msg.ops]  # type: ignore[misc]


def encode_results(responses: Sequence[Response]) -> pb.CallResponse:
    return pb.CallResponse(results=[_encode(pb.Result(), r) for r in responses])


def decode_results(msg: pb.CallResponse) -> list[Response]:
    return [_decode(r, "result", RESPONSES) for r in msg.results]  # type: ignore[misc]


def _encode(container: Any, msg: Message) -> Any:
    """``msg`` as the oneof field named ``msg.op`` of ``container``, field by field."""
    sub = getattr(container, msg.op)
    sub.SetInParent()  # marks the oneof even for a message without fields
    scalars, arrays = to_parts(msg)
    for name, value in arrays.items():
        fill_tensor(getattr(sub, name), value)
    for name, value in scalars.items():
        if isinstance(value, dict):
            target = getattr(sub, name)
            for key, item in value.items():
                setattr(target, key, item)
        elif isinstance(value, list):
            getattr(sub, name)[:] = value  # a repeated field (string IDs)
        else:
            setattr(sub, name, value)
    return container


def _decode(container: Any, oneof: str, table: dict[str, type[Message]]) -> Message:
    """The message in ``container``'s oneof, checked by :func:`~vfl.protocol.fields.from_parts`."""
    op = container.WhichOneof(oneof)
    if op is None or op not in table:
        raise WireFormatError(f"unknown or empty {oneof}: {op!r}")
    cls, sub = table[op], getattr(container, op)
    scalars: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for name, how in _plan(cls, sub.DESCRIPTOR):
        value = getattr(sub, name)
        if how == "ids":
            arrays[name] = decode_tensor(value, dtype="int64", what="sample IDs")
        elif how == "tensor":
            arrays[name] = decode_tensor(value, dtype="float32", what=f"{op} {name}")
        elif how == "message":
            scalars[name] = {f.name: getattr(value, f.name) for f in value.DESCRIPTOR.fields}
        elif how == "repeated":
            scalars[name] = list(value)
        else:
            scalars[name] = value
    return from_parts(cls, scalars, arrays)


@functools.cache
def _plan(cls: type[Message], descriptor: Any) -> tuple[tuple[str, str], ...]:
    """How to read each wire field of ``cls``, worked out once per message type."""
    kinds = {f.name: f.kind for f in fields_of(cls)}
    plan = []
    for field in descriptor.fields:
        if field.message_type is not None and field.message_type.name == "Tensor":
            plan.append((field.name, "ids" if kinds.get(field.name) == "ids" else "tensor"))
        elif field.message_type is not None:
            plan.append((field.name, "message"))
        elif field.is_repeated:
            plan.append((field.name, "repeated"))
        else:
            plan.append((field.name, "scalar"))
    return tuple(plan)
