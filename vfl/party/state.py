"""Model state as plain tensors: digests, snapshots, and safe checkpoint files.

A checkpoint is a ``state_dict`` (nested dicts of tensors and numbers) written
with ``torch.save`` and read back with ``weights_only=True``, so loading one
can never run code.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import os
from pathlib import Path
from typing import Any

import torch

from vfl.errors import CheckpointError

__all__ = ["clone_state", "fsync_dir", "load_checkpoint", "save_checkpoint", "state_digest"]


def _walk(prefix: str, obj: Any, out: list[tuple[str, Any]]) -> None:
    if isinstance(obj, dict):
        for key in sorted(obj, key=str):
            _walk(f"{prefix}/{key}", obj[key], out)
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            _walk(f"{prefix}/{i}", item, out)
    else:
        out.append((prefix, obj))


def state_digest(state: dict[str, Any]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes (order independent)."""
    leaves: list[tuple[str, Any]] = []
    _walk("", state, leaves)
    h = hashlib.sha256()
    for name, value in leaves:
        h.update(name.encode())
        if isinstance(value, torch.Tensor):
            t = value.detach().cpu().contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update(
                t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes()
            )
        else:
            h.update(repr(value).encode())
    return h.hexdigest()


def clone_state(state: dict[str, Any]) -> dict[str, Any]:
    """A deep copy that shares no tensor storage with the live model."""
    return copy.deepcopy(state)


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink inside ``path`` durable (the directory entry itself)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically (temp file, fsync, rename, fsync dir).

    A failed write (disk full, file size limit, unwritable dir) raises
    :class:`CheckpointError` and leaves any previous file at ``path`` untouched.
    """
    path = Path(path)
    buf = io.BytesIO()
    torch.save(state, buf)
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(buf.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise CheckpointError(f"cannot write checkpoint {path}: {exc.strerror or exc}") from exc


def load_checkpoint(path: Path, expected_digest: str | None = None) -> dict[str, Any]:
    """Read a checkpoint without unpickling objects; verify its digest if given."""
    try:
        state = torch.load(Path(path), map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise CheckpointError(f"checkpoint {path} does not exist") from exc
    except Exception as exc:  # torch raises many types for corrupt files
        raise CheckpointError(f"checkpoint {path} is corrupt or not a state_dict: {exc}") from exc
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} does not hold a state_dict")
    if expected_digest is not None and state_digest(state) != expected_digest:
        raise CheckpointError(f"checkpoint {path} does not match its recorded digest")
    return state
