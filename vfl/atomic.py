"""Atomic file writes: a reader sees the old file or the whole new one, never half of one.

Every file vfl writes for someone else to read -- reports and plots, receipts,
a server's ready file, checkpoints -- goes through :func:`write_atomic`: the
bytes go to a temporary file beside the target, are flushed to disk, and the
temporary file is renamed into place. This module imports nothing from vfl but
its errors, so the core (checkpoints) and the layers above it (reports, the
CLI, servers) share one implementation.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from vfl.errors import ConfigError

__all__ = ["TEMP_SUFFIX", "check_writable", "fsync_dir", "write_atomic"]

TEMP_SUFFIX = ".tmp"
"""Ends every temporary file's name, so a leftover (after SIGKILL) is recognisable."""


def _target(path: Path) -> Path:
    """The regular file to write for ``path``, or a :class:`ConfigError` saying why there is none.

    A symlink is followed: the file it points to is replaced and the link
    stays. Anything else that is not a regular file -- a directory, a device
    node, a FIFO, a socket -- is refused, since renaming over it would swap it
    for a plain file.
    """
    path = Path(path)
    if path.is_symlink():
        try:
            path = path.resolve(strict=False)
        except (OSError, RuntimeError) as exc:  # a loop of links
            raise ConfigError(f"cannot write {path}: {exc}") from None
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigError(f"{path} is a directory; give a file name")
    if path.exists() and not path.is_file():
        raise ConfigError(
            f"cannot write {path}: it is not a regular file (a device, FIFO or socket); "
            "give a file name"
        )
    if not parent.is_dir():
        raise ConfigError(f"cannot write {path}: directory {parent} does not exist")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"cannot write {path}: permission denied")
    return path


def check_writable(path: Path) -> Path:
    """The regular file to write for ``path`` (see :func:`_target`), if one can be made there.

    The directory is probed by creating (and removing) a temporary file in it,
    the only test that holds for root and on read-only file systems.
    """
    path = _target(path)
    fd, probe = _temp_beside(path)
    os.close(fd)
    os.unlink(probe)
    return path


def _temp_beside(path: Path) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_atomic(path: Path, write: Callable[[IO[bytes]], None], durable: bool = False) -> None:
    """Call ``write(fh)`` on a temp file beside ``path``, fsync it, rename it into place.

    A path that cannot be written, or is not a regular file (see
    :func:`check_writable`; a symlink is written through), raises
    :class:`ConfigError` before anything is created; a failure while writing
    (disk full, size limit) raises the ``OSError`` and removes the temp file,
    leaving any previous file untouched.
    ``durable`` also syncs the directory, so the rename itself survives a
    power cut (checkpoints need that; a report does not).
    """
    path = _target(Path(path))
    fd, tmp = _temp_beside(path)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; these are ordinary files
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink inside ``path`` durable (the directory entry itself)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _umask() -> int:
    """The umask, read from /proc where possible: setting and restoring it races threads."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
