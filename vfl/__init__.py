"""vfl: vertical federated learning with privacy-preserving label unlearning.

Importing the package loads nothing heavy (no torch): the command line's start-up
and the operator commands depend on that. :class:`Federation`
(the Python API, :mod:`vfl.api`) loads on first use.
"""

from __future__ import annotations

from typing import Any

from vfl._version import __version__

__all__ = ["Federation", "__version__"]
_API = ("Federation",)


def __getattr__(name: str) -> Any:
    """``vfl.Federation``, imported when first asked for (torch loads then)."""
    if name in _API:
        from vfl import api

        return getattr(api, name)
    raise AttributeError(f"module 'vfl' has no attribute {name!r}")
