"""What defines a federation, and building its parties from a dataset.

:class:`FederationSpec` is all a process needs to rebuild its own party: the
dataset (and where its files are), how many passive parties, the bottom model
and the seed. Each passive party keeps only its own shard of the columns; the
active party keeps only the labels.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from vfl.data import Dataset, column_groups, load_dataset, passive_party_ids
from vfl.data.tables import feature_table_of, label_table_of
from vfl.errors import ConfigError
from vfl.models.bottom import BottomModelConfig
from vfl.party.active import ActiveParty
from vfl.party.passive import PassiveParty
from vfl.seeding import party_seed

__all__ = ["FederationSpec", "build_active_party", "build_passive_party"]


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


def build_passive_party(
    spec: FederationSpec, party_id: str, dataset: Dataset | None = None
) -> PassiveParty:
    """The passive party ``party_id``: its band of columns as its own table (labels are
    dropped here), aligned on the dataset's agreed index; model seeded from the spec."""
    dataset = dataset or spec.load()
    cols = column_groups(dataset, spec.parties, spec.seed)[spec.party_index(party_id)]
    table = feature_table_of(dataset, cols)
    return PassiveParty.from_table(party_id, table, spec.model, party_seed(spec.seed, party_id))


def build_active_party(
    spec: FederationSpec, embed_dims: list[int], dataset: Dataset | None = None
) -> ActiveParty:
    """The label holder, with a top model sized for the parties' embeddings."""
    dataset = dataset or spec.load()
    return ActiveParty(
        label_table_of(dataset), embed_dims, spec.top_hidden, party_seed(spec.seed, "active")
    )
