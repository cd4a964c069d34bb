"""Name -> class registries whose built-in entries are imported on first use.

A registry of classes that need torch (unlearning methods, attacks) can still
list its names cheaply: each built-in name maps to the module that registers
it (with :meth:`LazyRegistry.register`) when imported, and :meth:`get` imports
that module only when the name is asked for. ``vfl --help`` lists the names
without importing any of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Generic, TypeVar

from vfl.errors import ConfigError

__all__ = ["LazyRegistry"]

T = TypeVar("T")


class LazyRegistry(Generic[T]):
    """Classes by their ``name`` attribute; ``builtin`` maps a name to its module."""

    def __init__(self, kind: str, builtin: Mapping[str, str]) -> None:
        self._kind = kind
        self._builtin = dict(builtin)
        self._classes: dict[str, type[T]] = {}

    def register(self, cls: type[T]) -> type[T]:
        """Class decorator: file ``cls`` under ``cls.name``."""
        self._classes[cls.name] = cls  # type: ignore[attr-defined]
        return cls

    def names(self) -> list[str]:
        return sorted(set(self._classes) | set(self._builtin))

    def get(self, name: str) -> T:
        """A new instance of the class registered as ``name``; a bad name's
        :class:`ConfigError` lists the choices."""
        if name not in self._classes and name in self._builtin:
            importlib.import_module(self._builtin[name])
        if name not in self._classes:
            choices = ", ".join(self.names())
            raise ConfigError(f"unknown {self._kind} {name!r}; choose one of: {choices}")
        return self._classes[name]()
