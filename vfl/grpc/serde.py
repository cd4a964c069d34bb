"""Where vfl objects become protobuf messages and back: the passive-party API.

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

import numpy as np
import torch
from pydantic import ValidationError

from vfl.errors import ProtocolError
from vfl.grpc.errors import WireFormatError
from vfl.grpc.proto import passive_pb2 as pb
from vfl.party.ids import as_id_array
from vfl.party.optim import UpdateConfig
from vfl.party.passive import PartyInfo

__all__ = [
    "DTYPES",
    "MAX_ELEMENTS",
    "decode_ids",
    "decode_tensor",
    "encode_tensor",
    "info_from_proto",
    "info_to_proto",
    "update_from_proto",
    "update_to_proto",
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


def decode_float(msg: pb.Tensor, what: str) -> torch.Tensor:
    """A float32 matrix (embeddings or their gradients) as a torch tensor."""
    return torch.from_numpy(decode_tensor(msg, dtype="float32", ndim=2, what=what))


def decode_ids(msg: pb.Tensor) -> np.ndarray:
    """Sample IDs: non-empty, 1-D, int64, unique."""
    ids = decode_tensor(msg, dtype="int64", ndim=1, what="sample IDs")
    try:
        return as_id_array(ids)
    except ProtocolError as exc:
        raise WireFormatError(str(exc)) from None


def update_to_proto(update: UpdateConfig) -> pb.UpdateConfig:
    return pb.UpdateConfig(**update.model_dump())


def update_from_proto(msg: pb.UpdateConfig) -> UpdateConfig:
    """Validated by pydantic; a bad optimizer or learning rate is a WireFormatError."""
    try:
        return UpdateConfig(
            optimizer=msg.optimizer,
            lr=msg.lr,
            momentum=msg.momentum,
            weight_decay=msg.weight_decay,
            freeze_norm_stats=msg.freeze_norm_stats,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise WireFormatError(f"update config {first['loc']}: {first['msg']}") from None


def info_to_proto(info: PartyInfo) -> pb.PartyInfo:
    return pb.PartyInfo(
        party_id=info.party_id,
        embed_dim=info.embed_dim,
        n_samples=info.n_samples,
        version=info.version,
        digest=info.digest,
    )


def info_from_proto(msg: pb.PartyInfo) -> PartyInfo:
    return PartyInfo(msg.party_id, msg.embed_dim, msg.n_samples, msg.version, msg.digest)
