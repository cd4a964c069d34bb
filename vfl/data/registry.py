"""Dataset registry: a name maps to a loader, so nothing else switches on names.

Entry points: ``vfl.datasets``; each names a :data:`DatasetLoader`. The table
says where each built-in loader lives; its module is imported when the
dataset is loaded, so listing the names (``vfl --help``) reads no data code.
A loader that reads files checks ``data_dir`` itself (``vfl.data.files.require_dir``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vfl.data.base import Dataset
from vfl.registry import Registry

__all__ = ["DATASETS", "DatasetLoader", "dataset_names", "load_dataset"]

DatasetLoader = Callable[[Path | None, int], Dataset]
"""``loader(data_dir, seed) -> Dataset``; ``seed`` drives any split it makes."""

DATASETS: Registry[DatasetLoader] = Registry(
    "dataset",
    "vfl.datasets",
    {
        "breast-cancer": "vfl.data.tabular:load_breast_cancer",
        "cifar10": "vfl.data.cifar:load_cifar10",
        "csv": "vfl.data.csv_parties:load_csv",
        "digits": "vfl.data.tabular:load_digits",
        "fashion-mnist": "vfl.data.idx:load_fashion_mnist",
        "mnist": "vfl.data.idx:load_mnist",
        "wine": "vfl.data.tabular:load_wine",
    },
)
dataset_names = DATASETS.names


def load_dataset(name: str, data_dir: Path | str | None = None, seed: int = 0) -> Dataset:
    """Load a registered dataset; raise :class:`ConfigError` or ``DataError`` with a fix."""
    return DATASETS.get(name)(Path(data_dir) if data_dir is not None else None, seed)
