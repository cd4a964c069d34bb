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
]

DTYPES: dict[str, np.dtype] = {"float32": np.dtype("<f4"), "int64": np.dtype("<i8")}
MAX_ELEMENTS = 1 << 24
"""Upper bound on elements per tensor (64 MiB of float32); the gRPC size limit is lower."""


def encode_tensor(value: torch.Tensor | np.ndarray) -> pb.Tensor:
    """Raw little-endian bytes of ``value`` (float32 or int64) with its dtype and shape."""
    arr = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    name = arr.dtype.name
    if name not in DTYPES:
        raise WireFormatError(f"cannot send dtype {name}; allowed: {', '.join(DTYPES)}")
    arr = np.ascontiguousarray(arr, dtype=DTYPES[name])
    return pb.Tensor(dtype=name, shape=arr.shape, data=arr.tobytes())


def decode_tensor(
    msg: pb.Tensor, *, dtype: str, ndim: int | None = None, what: str = "tensor"
) -> np.ndarray:
    """A writable array from ``msg``; checks dtype, rank, element count and byte size."""
    if msg.dtype != dtype:
        raise WireFormatError(f"{what} must be {dtype}, got {msg.dtype or 'no dtype'}")
    shape = tuple(int(d) for d in msg.shape)
    if ndim is not None and len(shape) != ndim:
        raise WireFormatError(f"{what} must have {ndim} dimension(s), got shape {list(shape)}")
    if any(d < 0 for d in shape):
        raise WireFormatError(f"{what} has a negative dimension: {list(shape)}")
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
        getattr(sub, name).CopyFrom(encode_tensor(value))
    for name, value in scalars.items():
        if isinstance(value, dict):
            target = getattr(sub, name)
            for key, item in value.items():
                setattr(target, key, item)
        else:
            setattr(sub, name, value)
    return container


def _decode(container: Any, oneof: str, table: dict[str, type[Message]]) -> Message:
    """The message in ``container``'s oneof, checked by :func:`~vfl.protocol.fields.from_parts`."""
    op = container.WhichOneof(oneof)
    if op is None or op not in table:
        raise WireFormatError(f"unknown or empty {oneof}: {op!r}")
    cls, sub = table[op], getattr(container, op)
    kinds = {f.name: f.kind for f in fields_of(cls)}
    scalars: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for field in sub.DESCRIPTOR.fields:
        value = getattr(sub, field.name)
        if field.message_type is not None and field.message_type.name == "Tensor":
            arrays[field.name] = _decode_array(value, kinds.get(field.name), f"{op} {field.name}")
        elif field.message_type is not None:
            scalars[field.name] = {f.name: getattr(value, f.name) for f in value.DESCRIPTOR.fields}
        else:
            scalars[field.name] = value
    return from_parts(cls, scalars, arrays)


def _decode_array(msg: pb.Tensor, kind: Any, what: str) -> np.ndarray:
    if kind == "ids":
        return decode_tensor(msg, dtype="int64", what="sample IDs")
    return decode_tensor(msg, dtype="float32", what=what)
