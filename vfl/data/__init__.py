"""Datasets, their registry, and how they are split between parties."""

from vfl.data.base import Dataset, LabelShard, PartyShard
from vfl.data.partition import column_groups, label_shard, party_shard, passive_party_ids
from vfl.data.registry import DATASETS, dataset_names, load_dataset

__all__ = [
    "DATASETS",
    "Dataset",
    "LabelShard",
    "PartyShard",
    "column_groups",
    "dataset_names",
    "label_shard",
    "load_dataset",
    "party_shard",
    "passive_party_ids",
]
