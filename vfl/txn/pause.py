"""The one test hook of the request worker: pause at a named point of two-phase commit.

With ``VFL_TEST_PAUSE_AT=DIR`` set, :func:`pause_point` pauses at ``POINT``
when a test has created ``DIR/POINT.armed`` (``prepared``: every party
prepared, nothing journaled; ``decided``: the decision journaled, nothing
committed; ``work``: a progress event was published, the work is mid-way). It
disarms, creates ``DIR/POINT.reached`` and waits for ``DIR/POINT.go``, so a
test (tests/transactions) can kill a process at that exact point. Unset, it
does nothing.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

__all__ = ["PAUSE_ENV", "pause_point"]

log = logging.getLogger(__name__)

PAUSE_ENV = "VFL_TEST_PAUSE_AT"


def pause_point(point: str) -> None:
    """Pause at ``point`` if a test armed it (see the module docstring); else return at once."""
    folder = os.environ.get(PAUSE_ENV)
    if not folder or not (armed := Path(folder) / f"{point}.armed").exists():
        return
    armed.unlink()
    log.warning("test hook: paused at %s", point)
    (Path(folder) / f"{point}.reached").touch()
    go = Path(folder) / f"{point}.go"
    while not go.exists():
        time.sleep(0.05)
    go.unlink()
