"""Any protocol message as plain parts, and back, driven by its field annotations.

Transports move *parts*: ``scalars`` (JSON-able values; a pydantic settings
object becomes a dict) and ``arrays`` (numpy arrays). Decoding is where a
party's input is checked, once for every transport: IDs must be a non-empty
1-D int64 array of unique values, matrices 2-D float32, scalars of their
declared type, settings valid by their pydantic model. Anything else raises
:class:`~vfl.errors.WireFormatError` before a party sees it.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import typing
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ValidationError

from vfl.errors import ProtocolError, WireFormatError
from vfl.party.ids import as_id_array
from vfl.protocol.messages import Message
from vfl.psi import MAX_CHUNK_BYTES

__all__ = ["Field", "fields_of", "from_parts", "to_parts"]

ARRAY_KINDS = ("ids", "matrix")
MAX_STRING_IDS = 10_000_000
"""String IDs per message: the largest federation index a party accepts."""
MAX_ID_CHARS = 256
"""Characters per string ID: enough for any key column, too few to smuggle a payload."""
Scalars = dict[str, Any]
Arrays = dict[str, np.ndarray]


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of a message: its name and kind (``ids``, ``matrix``, a scalar type or a model)."""

    name: str
    kind: str | type

    @property
    def is_array(self) -> bool:
        return self.kind in ARRAY_KINDS


@functools.cache
def fields_of(cls: type[Message]) -> tuple[Field, ...]:
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        hint = hints[f.name]
        meta = getattr(hint, "__metadata__", ())
        out.append(Field(f.name, meta[0] if meta else hint))
    return tuple(out)


def to_parts(msg: Message) -> tuple[Scalars, Arrays]:
    scalars: Scalars = {}
    arrays: Arrays = {}
    for field in fields_of(type(msg)):
        value = getattr(msg, field.name)
        if field.kind == "matrix":
            arrays[field.name] = value.detach().cpu().numpy()
        elif field.kind == "ids":
            arr = np.asarray(value)
            arrays[field.name] = arr.astype(np.int64, copy=False) if arr.dtype.kind in "iu" else arr
        elif isinstance(value, BaseModel):
            scalars[field.name] = value.model_dump()
        elif field.kind == "string_ids":
            scalars[field.name] = list(value)
        else:
            scalars[field.name] = value
    return scalars, arrays


def from_parts(cls: type[Message], scalars: Scalars, arrays: Arrays) -> Message:
    """Build ``cls`` from parts, checking every value; :class:`WireFormatError` if one is off."""
    values = {}
    for field in fields_of(cls):
        source = arrays if field.is_array else scalars
        if field.name not in source:
            raise WireFormatError(f"{cls.op}: missing field {field.name!r}")
        values[field.name] = _decode(cls.op, field, source[field.name])
    return cls(**values)


def _decode(op: str, field: Field, value: Any) -> Any:
    if field.kind == "ids":
        return _ids(value)
    if field.kind == "matrix":
        return _matrix(op, field.name, value)
    if field.kind == "chunk":
        return _chunk(op, field.name, value)
    if field.kind == "string_ids":
        return _string_ids(op, field.name, value)
    if isinstance(field.kind, type) and issubclass(field.kind, BaseModel):
        return _model(field.kind, field.name, value)
    return _scalar(op, field, value)


def _ids(value: Any) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype != np.int64:
        raise WireFormatError(f"sample IDs must be int64, got {_describe(value)}")
    try:
        return as_id_array(value)
    except ProtocolError as exc:
        raise WireFormatError(str(exc)) from None


def _matrix(op: str, name: str, value: Any) -> torch.Tensor:
    if not isinstance(value, np.ndarray) or value.dtype != np.float32 or value.ndim != 2:
        raise WireFormatError(
            f"{op} {name} must be float32 with 2 dimensions, got {_describe(value)}"
        )
    return torch.from_numpy(value)


def _chunk(op: str, name: str, value: Any) -> bytes:
    if not isinstance(value, bytes) or not 0 < len(value) <= MAX_CHUNK_BYTES:
        size = len(value) if isinstance(value, bytes) else _describe(value)
        raise WireFormatError(f"{op} {name} must be 1 to {MAX_CHUNK_BYTES} bytes, got {size}")
    return value


def _string_ids(op: str, name: str, value: Any) -> tuple[str, ...]:
    """Sorted unique non-empty strings of bounded length: the shape of an ID list, nothing else."""
    if not isinstance(value, list | tuple) or len(value) > MAX_STRING_IDS:
        raise WireFormatError(f"{op} {name} must be a list of at most {MAX_STRING_IDS} IDs")
    for item in value:
        if not isinstance(item, str) or not 0 < len(item) <= MAX_ID_CHARS:
            raise WireFormatError(f"{op} {name}: every ID is a string of 1 to {MAX_ID_CHARS} chars")
    ids = tuple(value)
    if any(a >= b for a, b in itertools.pairwise(ids)):
        raise WireFormatError(f"{op} {name}: IDs must be sorted and unique")
    return ids


def _model(model: type[BaseModel], name: str, value: Any) -> BaseModel:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise WireFormatError(f"{name} config {first['loc']}: {first['msg']}") from None


def _scalar(op: str, field: Field, value: Any) -> Any:
    kind = field.kind
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        raise WireFormatError(f"{op} {field.name} must be {getattr(kind, '__name__', kind)}")
    return value


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} {list(value.shape)}"
    return type(value).__name__
