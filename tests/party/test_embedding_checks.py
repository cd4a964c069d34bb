"""The active party refuses embeddings that are non-finite or absurdly large."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vfl.errors import ProtocolError
from vfl.federation import FederationSpec, build_passive_party
from vfl.protocol.client import MAX_EMBEDDING_ABS, InProcessClient

SPEC = FederationSpec(dataset="digits", parties=2, seed=0)
IDS = np.arange(16)


@pytest.fixture
def party_and_client(digits):
    party = build_passive_party(SPEC, "passive-0", digits)
    return party, InProcessClient(party)


def answering(party, fill: float) -> None:
    """Make ``party`` answer every embed with ``fill`` (a broken or hostile party)."""
    honest = party.embed

    def embed(ids, train):
        emb = honest(ids, train)
        return torch.full_like(emb, fill)

    party.embed = embed


def test_honest_embeddings_pass_and_stay_far_below_the_limit(party_and_client) -> None:
    _, client = party_and_client
    emb = client.embed(IDS, train=False)
    assert emb.shape[0] == len(IDS)
    assert float(emb.abs().max()) < MAX_EMBEDDING_ABS / 1000


@pytest.mark.parametrize(
    ("fill", "match"),
    [(float("nan"), "non-finite"), (float("inf"), "non-finite"), (3e38, "magnitude 3e\\+38")],
)
def test_bad_embeddings_are_refused_naming_the_party(party_and_client, fill, match) -> None:
    party, client = party_and_client
    answering(party, fill)
    with pytest.raises(ProtocolError, match=f"party passive-0 sent .*{match}"):
        client.embed(IDS, train=False)
