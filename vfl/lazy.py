"""The one way vfl imports something on first use: a ``"module:attr"`` reference.

Several packages re-export names from modules that import torch or
scikit-learn, and every registry lists built-in entries that live in such
modules. Importing those eagerly would make every ``vfl`` command, ``vfl
status`` included, pay two seconds of imports it never uses. So a registry
keeps ``"module:attr"`` references and :func:`resolve` imports one when it is
asked for, and a package ``__init__`` hands :func:`lazy_exports` the names of
each submodule it re-exports.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports", "resolve"]


def resolve(reference: str) -> Any:
    """Import ``"package.module:attr"`` (``attr`` may be dotted) and return the object.

    An ``ImportError`` of the module propagates (a registry turns it into a
    hint about the missing extra); a missing attribute is an ``ImportError`` too.
    """
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"not a 'module:attr' reference: {reference!r}")
    value: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        try:
            value = getattr(value, part)
        except AttributeError as exc:
            raise ImportError(f"{reference}: {module_name} has no attribute {attr!r}") from exc
    return value


def lazy_exports(
    package: str, modules: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], list[str]]:
    """A module ``__getattr__`` (PEP 562) and ``__all__`` for ``package``.

    ``modules`` maps each submodule to the names it provides; a name is
    imported on its first access and then cached in the package.
    """
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = resolve(f"{where[name]}:{name}")
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    return __getattr__, sorted(where)
