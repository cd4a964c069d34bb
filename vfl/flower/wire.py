"""The one place where party calls become bytes (before encryption) and back.

A payload is an ordered list of :class:`Item` -- an operation name, JSON
scalars, and named arrays -- laid out as ``magic | header length | JSON header
| raw array bytes``. A ``bytes`` scalar (a PSI chunk) travels raw in the same
body, named under the header's ``bytes`` key, since JSON has no bytes. Arrays
travel as little-endian C-order bytes with dtype and shape; decoding checks the
dtype against an allow-list, sizes against the header and a limit, and never
unpickles anything. Several calls travel in one payload so a deferred
``backward`` rides along with the next ``embed``
(see :mod:`vfl.flower.client`).
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vfl.errors import ProtocolError

__all__ = ["DTYPES", "MAX_ELEMENTS", "Item", "decode_items", "encode_items"]

MAGIC = b"VFW1"
DTYPES: dict[str, np.dtype] = {"float32": np.dtype("<f4"), "int64": np.dtype("<i8")}
MAX_ELEMENTS = 1 << 24
MAX_HEADER = 1 << 20
_PREFIX = struct.Struct("<4sI")


@dataclass
class Item:
    """One operation (or one result): a name, JSON scalars and named arrays."""

    op: str
    args: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def encode_items(items: list[Item]) -> bytes:
    header: list[dict[str, Any]] = []
    buffers: list[bytes] = []
    offset = 0
    for item in items:
        specs, raw = {}, {}
        args = {k: v for k, v in item.args.items() if not isinstance(v, bytes)}
        for name, value in item.args.items():
            if isinstance(value, bytes):
                raw[name] = {"offset": offset, "size": len(value)}
                buffers.append(value)
                offset += len(value)
        for name, value in item.arrays.items():
            arr = np.asarray(value)
            if arr.dtype.name not in DTYPES:
                raise ProtocolError(f"cannot send dtype {arr.dtype.name}; allowed: float32, int64")
            data = np.ascontiguousarray(arr, dtype=DTYPES[arr.dtype.name]).tobytes()
            specs[name] = {"dtype": arr.dtype.name, "shape": list(arr.shape), "offset": offset}
            buffers.append(data)
            offset += len(data)
        header.append({"op": item.op, "args": args, "arrays": specs, "bytes": raw})
    head = json.dumps(header, separators=(",", ":")).encode()
    return _PREFIX.pack(MAGIC, len(head)) + head + b"".join(buffers)


def decode_items(data: bytes) -> list[Item]:
    if len(data) < _PREFIX.size:
        raise ProtocolError("payload too short")
    magic, head_len = _PREFIX.unpack_from(data)
    if magic != MAGIC or head_len > MAX_HEADER or _PREFIX.size + head_len > len(data):
        raise ProtocolError("payload is not a vfl-flower payload")
    body = memoryview(data)[_PREFIX.size + head_len :]
    try:
        header = json.loads(data[_PREFIX.size : _PREFIX.size + head_len])
        return [
            Item(
                str(entry["op"]),
                {**entry["args"], **{k: _raw(body, s, k) for k, s in entry["bytes"].items()}},
                {k: _array(body, spec, k) for k, spec in entry["arrays"].items()},
            )
            for entry in header
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProtocolError(f"malformed payload header: {exc}") from exc


def _raw(body: memoryview, spec: dict[str, Any], name: str) -> bytes:
    start, size = int(spec["offset"]), int(spec["size"])
    if start < 0 or size < 0 or size > MAX_ELEMENTS or start + size > len(body):
        raise ProtocolError(f"bytes {name!r} run past the end of the payload")
    return bytes(body[start : start + size])


def _array(body: memoryview, spec: dict[str, Any], name: str) -> np.ndarray:
    dtype = DTYPES.get(spec["dtype"])
    shape = tuple(int(d) for d in spec["shape"])
    if dtype is None or any(d < 0 for d in shape) or math.prod(shape) > MAX_ELEMENTS:
        raise ProtocolError(f"array {name!r}: bad dtype or shape {spec['dtype']} {list(shape)}")
    start = int(spec["offset"])
    end = start + math.prod(shape) * dtype.itemsize
    if start < 0 or end > len(body):
        raise ProtocolError(f"array {name!r} runs past the end of the payload")
    return np.frombuffer(body[start:end], dtype=dtype).reshape(shape).copy()
