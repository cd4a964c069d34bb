"""Datasets, their registry, and how they are split between parties."""

from vfl.data import cifar as _cifar  # noqa: F401  (registers its datasets)
from vfl.data import csv_parties as _csv_parties  # noqa: F401  (registers its datasets)
from vfl.data import idx as _idx  # noqa: F401  (registers its datasets)
from vfl.data import tabular as _tabular  # noqa: F401  (registers its datasets)
from vfl.data.base import Dataset, LabelShard, PartyShard
from vfl.data.partition import column_groups, label_shard, party_shard, passive_party_ids
from vfl.data.registry import dataset_names, load_dataset, needs_data_dir, register_dataset

__all__ = [
    "Dataset",
    "LabelShard",
    "PartyShard",
    "column_groups",
    "dataset_names",
    "label_shard",
    "load_dataset",
    "needs_data_dir",
    "party_shard",
    "passive_party_ids",
    "register_dataset",
]
