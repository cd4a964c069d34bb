"""Shared helpers for the Flower tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

GRPC_SERVERS = b"vfl.cli.serve"
"""Session-scoped party servers of tests/grpc (same pytest run): not the Flower launcher's."""


def _children() -> dict[int, str]:
    """This process's live child processes (zombies and tests/grpc servers excluded)."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
            if int(fields[1]) == os.getpid() and fields[0] != "Z" and GRPC_SERVERS not in cmdline:
                out[int(stat.parent.name)] = cmdline.decode()
        except (OSError, IndexError, UnicodeDecodeError):
            continue
    return out


@pytest.fixture
def live_children() -> Callable[[], dict[int, str]]:
    return _children
