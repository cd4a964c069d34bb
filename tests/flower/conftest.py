"""Shared helpers for the Flower tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest


def _children() -> dict[int, str]:
    """This process's live child processes (zombies excluded) and their command lines."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                out[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().decode()
        except (OSError, IndexError, UnicodeDecodeError):
            continue
    return out


@pytest.fixture
def live_children() -> Callable[[], dict[int, str]]:
    return _children
