"""Dataset registry: a name maps to a loader, so nothing else switches on names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vfl.data.base import Dataset
from vfl.errors import ConfigError

__all__ = ["DatasetLoader", "dataset_names", "load_dataset", "needs_data_dir", "register_dataset"]

DatasetLoader = Callable[[Path | None, int], Dataset]
"""``loader(data_dir, seed) -> Dataset``; ``seed`` drives any split it makes."""

_LOADERS: dict[str, DatasetLoader] = {}
_NEEDS_DIR: set[str] = set()


def register_dataset(
    name: str, *, needs_data_dir: bool = False
) -> Callable[[DatasetLoader], DatasetLoader]:
    """Register ``loader`` under ``name`` (used as a decorator by each source module)."""

    def wrap(loader: DatasetLoader) -> DatasetLoader:
        if name in _LOADERS:
            raise ValueError(f"dataset {name!r} registered twice")
        _LOADERS[name] = loader
        if needs_data_dir:
            _NEEDS_DIR.add(name)
        return loader

    return wrap


def dataset_names() -> list[str]:
    return sorted(_LOADERS)


def needs_data_dir(name: str) -> bool:
    return name in _NEEDS_DIR


def load_dataset(name: str, data_dir: Path | str | None = None, seed: int = 0) -> Dataset:
    """Load a registered dataset; raise :class:`ConfigError` or ``DataError`` with a fix."""
    if name not in _LOADERS:
        raise ConfigError(f"unknown dataset {name!r}; choose one of: {', '.join(dataset_names())}")
    if name in _NEEDS_DIR and data_dir is None:
        raise ConfigError(f"dataset {name!r} is read from files: pass --data-dir DIR")
    return _LOADERS[name](Path(data_dir) if data_dir is not None else None, seed)
