"""Lazy re-exports for package ``__init__`` modules (PEP 562).

Several packages re-export names from modules that import torch or
scikit-learn. Importing those eagerly would make every ``vfl`` command,
``vfl status`` included, pay two seconds of imports it never uses; a package
instead maps each public name to its submodule and imports it on first access.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``exports`` maps a name to its module."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name]), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    return __getattr__
