"""Model state as plain tensors: digests, snapshots, and safe checkpoint files.

A checkpoint is a ``state_dict`` (nested dicts of tensors and numbers) written
with ``torch.save`` and read back with ``weights_only=True``, so loading one
can never run code.
"""

from __future__ import annotations

import copy
import hashlib
import io
from pathlib import Path
from typing import Any

import torch

from vfl.atomic import fsync_dir, write_atomic
from vfl.errors import CheckpointError, ConfigError

# fsync_dir is re-exported for the checkpoint store (parties/store.py), which renames files.
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


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically and durably (temp file, fsync, rename, fsync dir).

    A failed write (disk full, file size limit, unwritable dir) raises
    :class:`CheckpointError` and leaves any previous file at ``path`` untouched.
    """
    path = Path(path)
    buf = io.BytesIO()
    torch.save(state, buf)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda fh: fh.write(buf.getbuffer()), durable=True)
    except (OSError, ConfigError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise CheckpointError(f"cannot write checkpoint {path}: {reason}") from exc


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
