"""One registry mechanism for every kind of pluggable thing vfl looks up by name.

Datasets, bottom models, unlearning methods, attacks, defenses and transports
are each a :class:`Registry`. An entry comes from one of three places:

* a **built-in** ``"module:attr"`` reference, imported on first use
  (:func:`vfl.lazy.resolve`), so listing names -- ``vfl --help`` -- imports no
  torch;
* an **entry point** of an installed distribution, in the registry's group
  (``vfl.methods``, ``vfl.bottom_models``, ...): a user's package adds a method
  or a model without editing vfl, and its module is imported only when its
  name is asked for;
* :meth:`Registry.register` at run time (tests, notebooks).

A name is taken once: registering a taken name is refused, and a plug-in
whose name is taken is skipped with a warning (the built-in keeps working).
Entries that need settings declare them as a pydantic model in an
``options_model`` attribute; :meth:`Registry.create` validates the user's
options against it and builds the entry with them.
"""

from __future__ import annotations

import functools
import warnings
import weakref
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from vfl.errors import ConfigError
from vfl.lazy import resolve

__all__ = ["Registry", "reload_plugins"]

T = TypeVar("T")
C = TypeVar("C", bound=type)
_REGISTRIES: weakref.WeakSet[Registry[Any]] = weakref.WeakSet()


@functools.cache
def _installed() -> metadata.EntryPoints:
    """Every installed entry point, read once per process for all registries."""
    return metadata.entry_points()


def reload_plugins() -> None:
    """Read entry points again (after installing a plug-in into a running interpreter)."""
    _installed.cache_clear()
    for registry in _REGISTRIES:
        registry.forget_plugins()


def _distribution(entry: metadata.EntryPoint) -> str:
    dist = getattr(entry, "dist", None)
    return dist.name if dist is not None else "an unknown distribution"


class Registry(Generic[T]):
    """Entries of one ``kind`` by name: built-in references, plug-ins, registered objects."""

    def __init__(
        self,
        kind: str,
        group: str,
        builtin: Mapping[str, str],
        extras: Mapping[str, str] | None = None,
    ) -> None:
        """``builtin`` maps a name to ``"module:attr"``; ``extras`` maps a name to the
        pip extra that provides its imports (for the error when they are missing)."""
        self.kind, self.group = kind, group
        self._builtin = dict(builtin)
        self._extras = dict(extras or {})
        self._loaded: dict[str, T] = {}
        self._plugins: dict[str, metadata.EntryPoint] | None = None
        _REGISTRIES.add(self)

    def names(self) -> list[str]:
        return sorted(self._builtin.keys() | self._loaded.keys() | self.plugins().keys())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def plugins(self) -> dict[str, metadata.EntryPoint]:
        """This group's entry points whose names are free, read on first use."""
        if self._plugins is None:
            self._plugins = {}
            for entry in _installed().select(group=self.group):
                taken = self._builtin.keys() | self._loaded.keys() | self._plugins.keys()
                if entry.name in taken:
                    warnings.warn(
                        f"{self.kind} {entry.name!r} from {_distribution(entry)} is skipped: "
                        f"the name is taken; rename its entry point in {self.group!r}",
                        stacklevel=2,
                    )
                    continue
                self._plugins[entry.name] = entry
        return self._plugins

    def forget_plugins(self) -> None:
        """Drop what was read from entry points (and loaded from them); keep the rest."""
        for name in self._plugins or {}:
            self._loaded.pop(name, None)
        self._plugins = None

    def register(self, name: str, entry: T) -> T:
        """Add ``entry`` under ``name``; a name that is taken is refused."""
        if name in self:
            raise ConfigError(f"{self.kind} {name!r} is registered already; choose another name")
        self._loaded[name] = entry
        return entry

    def register_class(self, cls: C) -> C:
        """Class decorator: file ``cls`` under its ``name`` attribute."""
        self.register(cls.name, cls)  # type: ignore[attr-defined, arg-type]
        return cls

    def get(self, name: str) -> T:
        """The entry registered as ``name`` (imported on first use); a bad name's
        :class:`ConfigError` lists the choices."""
        if name not in self._loaded:
            self._loaded[name] = self._load(name)
        return self._loaded[name]

    def _load(self, name: str) -> T:
        if name in self._builtin:
            reference, origin = self._builtin[name], ""
        elif name in self.plugins():
            entry = self.plugins()[name]
            reference, origin = f"{entry.module}:{entry.attr}", f" (from {_distribution(entry)})"
        else:
            raise ConfigError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            )
        try:
            entry_object: T = resolve(reference)
        except ImportError as exc:
            hint = (
                f"; install its extra: pip install '{self._extras[name]}'"
                if name in self._extras
                else ""
            )
            raise ConfigError(
                f"{self.kind} {name!r}{origin} is not available ({exc}){hint}"
            ) from exc
        return entry_object

    def create(self, name: str, options: Mapping[str, Any] | None = None) -> Any:
        """Call the entry ``name`` with its options model built from ``options``.

        An entry without an ``options_model`` is called with no arguments and
        accepts no options.
        """
        factory: Callable[..., Any] = self.get(name)  # type: ignore[assignment]
        model: type[BaseModel] | None = getattr(factory, "options_model", None)
        if model is None:
            if options:
                raise ConfigError(f"{self.kind} {name!r} takes no options; got {sorted(options)}")
            return factory()
        return factory(self.options(name, model, options or {}))

    def options(self, name: str, model: type[BaseModel], options: Mapping[str, Any]) -> BaseModel:
        """``options`` validated against ``model``: unknown keys and bad values are one line."""
        unknown = sorted(set(options) - set(model.model_fields))
        if unknown:
            raise ConfigError(
                f"unknown option {unknown[0]!r} for {self.kind} {name!r}; "
                f"choose from: {', '.join(sorted(model.model_fields))}"
            )
        try:
            return model.model_validate(dict(options))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise ConfigError(
                f"invalid option {where!r} for {self.kind} {name!r}: {first.get('msg')}"
            ) from None
