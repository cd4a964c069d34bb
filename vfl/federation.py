"""What defines a federation, and building its parties from a dataset.

:class:`FederationSpec` is all a process needs to rebuild its own party: the
dataset (and where its files are), how many passive parties, the bottom model
and the seed. Each passive party keeps only its own shard of the columns; the
active party keeps only the labels.

A deployed party brings its own file instead (:class:`PassiveData`,
:class:`ActiveData`): it reads only that file, and is unaligned until
``vfl align`` has run private set intersection with the others.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from vfl.data import Dataset, column_groups, load_dataset, passive_party_ids
from vfl.data.tables import (
    FeatureTable,
    LabelTable,
    feature_table_of,
    label_table_of,
    read_feature_table,
    read_label_table,
)
from vfl.errors import ConfigError
from vfl.models.bottom import BottomModelConfig
from vfl.party.active import ActiveParty
from vfl.party.passive import PassiveParty
from vfl.seeding import party_seed

__all__ = [
    "ActiveData",
    "FederationSpec",
    "PassiveData",
    "build_active_party",
    "build_passive_party",
]


class FederationSpec(BaseModel):
    """The shared agreement every party starts from."""

    model_config = ConfigDict(frozen=True)

    dataset: str = "digits"
    data_dir: Path | None = None
    parties: int = Field(2, ge=1, le=8)
    model: BottomModelConfig = BottomModelConfig()
    top_hidden: int = Field(128, ge=2)
    seed: int = 0

    def load(self) -> Dataset:
        return load_dataset(self.dataset, self.data_dir, self.seed)

    def party_ids(self) -> list[str]:
        return passive_party_ids(self.parties)

    def party_index(self, party_id: str) -> int:
        if party_id not in self.party_ids():
            raise ConfigError(
                f"unknown party {party_id!r}; with {self.parties} parties use one of: "
                + ", ".join(self.party_ids())
            )
        return self.party_ids().index(party_id)


class PassiveData(BaseModel):
    """A passive party's own table: a CSV of an ID column and its feature columns."""

    model_config = ConfigDict(frozen=True)

    path: Path
    id_column: str = "id"
    categorical: tuple[str, ...] = ()
    score: Path | None = None  # new samples' rows, same columns: scored, never trained on

    def read(self) -> FeatureTable:
        return read_feature_table(self.path, self.id_column, self.categorical, self.score)


class ActiveData(BaseModel):
    """The active party's label file: IDs, labels as written, an optional split column."""

    model_config = ConfigDict(frozen=True)

    labels: Path
    id_column: str = "id"
    label_column: str = "label"
    split_column: str = "split"
    score: Path | None = None  # a CSV whose ID column lists new samples to score

    def read(self) -> LabelTable:
        return read_label_table(
            self.labels, self.id_column, self.label_column, self.split_column, self.score
        )


def build_passive_party(
    spec: FederationSpec,
    party_id: str,
    dataset: Dataset | None = None,
    data: PassiveData | None = None,
) -> PassiveParty:
    """The passive party ``party_id``; model seeded from the spec.

    With ``data``, only that file is read and the party waits for ``vfl align``.
    Otherwise its band of the built-in dataset's columns becomes its own table
    (labels are dropped here), aligned on the dataset's agreed index.
    """
    seed = party_seed(spec.seed, party_id)
    if data is not None:
        return PassiveParty.from_table(party_id, data.read(), spec.model, seed)
    dataset = dataset or spec.load()
    cols = column_groups(dataset, spec.parties, spec.seed)[spec.party_index(party_id)]
    return PassiveParty.from_table(party_id, feature_table_of(dataset, cols), spec.model, seed)


def build_active_party(
    spec: FederationSpec,
    embed_dims: list[int],
    dataset: Dataset | None = None,
    labels: LabelTable | None = None,
) -> ActiveParty:
    """The label holder, with a top model sized for the parties' embeddings; from its
    label table (a file's is unaligned until ``vfl align``) or the built-in dataset's."""
    table = labels or label_table_of(dataset or spec.load())
    return ActiveParty(table, embed_dims, spec.top_hidden, party_seed(spec.seed, "active"))
