"""What defines a federation, and building its parties from a dataset.

:class:`FederationSpec` is all a process needs to rebuild its own party: the
dataset (and where its files are), how many passive parties, the bottom
models (one for all, or one per party), the top model and the seed (own
models follow the contract in :mod:`vfl.models.custom`). Each passive party
keeps only its own shard of the columns; the active party keeps only the
labels.

A deployed party brings its own file instead (:class:`PassiveData`,
:class:`ActiveData`): it reads only that file, and is unaligned until
``vfl align`` has run private set intersection with the others.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

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
from vfl.models.bottom import BottomModelConfig, build_bottom_model
from vfl.models.custom import describe, resolve_reference
from vfl.party.active import ActiveParty
from vfl.party.passive import PassiveParty
from vfl.seeding import party_seed, seeded

__all__ = [
    "ActiveData",
    "FederationSpec",
    "PassiveData",
    "build_active_party",
    "build_passive_party",
    "check_remote_parties",
]


class FederationSpec(BaseModel):
    """The shared agreement every party starts from."""

    model_config = ConfigDict(frozen=True)

    dataset: str = "digits"
    data_dir: Path | None = None
    parties: int = Field(2, ge=1, le=8)
    model: BottomModelConfig = BottomModelConfig()
    top_hidden: int = Field(128, ge=2)
    top_model: str | Callable[..., Any] | None = None
    """The user's own top model (``"module:attr"`` or a callable); None: the built-in
    MLP of ``top_hidden`` units."""
    seed: int = 0

    @field_validator("top_model")
    @classmethod
    def _importable(cls, top: str | Callable[..., Any] | None) -> str | Callable[..., Any] | None:
        if isinstance(top, str):
            resolve_reference(top, "top model")  # a typo fails here, before any data loads
        return top

    @field_serializer("top_model", when_used="json")
    def _as_text(self, top: str | Callable[..., Any] | None) -> str | None:
        return top if top is None or isinstance(top, str) else describe(top)

    @model_validator(mode="after")
    def _one_model_per_party(self) -> FederationSpec:
        given = len(self.model.names)
        if given not in (1, self.parties):
            raise ValueError(
                f"{given} bottom models for {self.parties} passive parties: give one for "
                "every party, or one per party"
            )
        return self

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

    def model_for(self, party_id: str) -> BottomModelConfig:
        """The bottom model of ``party_id``: the one model, or its entry of the list."""
        if len(self.model.names) == 1:
            return self.model.of_party(0)
        if party_id not in self.party_ids():
            raise ConfigError(
                f"{party_id} has no entry in the per-party bottom models "
                f"({', '.join(map(describe, self.model.names))}): give a single --model"
            )
        return self.model.of_party(self.party_index(party_id))


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
        return PassiveParty.from_table(party_id, data.read(), spec.model_for(party_id), seed)
    dataset = dataset or spec.load()
    cols = column_groups(dataset, spec.parties, spec.seed)[spec.party_index(party_id)]
    table = feature_table_of(dataset, cols)
    return PassiveParty.from_table(party_id, table, spec.model_for(party_id), seed)


def check_remote_parties(spec: FederationSpec, dataset: Dataset | None, why: str) -> None:
    """Before passive parties start in other processes (``why`` says which transport):
    their models must be importable references, and each must build.

    Each is built here once and thrown away, so a model that breaks its contract is
    one error in this process, not a dead child and its log. Its feature shape is
    what :func:`~vfl.data.tables.feature_table_of` gives the party: the dataset's
    sample shape with the last axis cut to its columns. Without ``dataset`` (parties
    with their own files) only the references are checked.
    """
    spec.model.reference(why)
    if dataset is None:
        return
    groups = column_groups(dataset, spec.parties, spec.seed)
    for party_id, cols in zip(spec.party_ids(), groups, strict=True):
        with seeded(party_seed(spec.seed, party_id)):  # the party's own draws; RNG restored
            build_bottom_model((*dataset.x_train.shape[1:-1], len(cols)), spec.model_for(party_id))


def build_active_party(
    spec: FederationSpec,
    embed_dims: list[int],
    dataset: Dataset | None = None,
    labels: LabelTable | None = None,
) -> ActiveParty:
    """The label holder, with a top model sized for the parties' embeddings; from its
    label table (a file's is unaligned until ``vfl align``) or the built-in dataset's."""
    table = labels or label_table_of(dataset or spec.load())
    seed = party_seed(spec.seed, "active")
    return ActiveParty(table, embed_dims, spec.top_hidden, seed, top=spec.top_model)
