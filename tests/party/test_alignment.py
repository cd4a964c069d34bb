"""A passive party built from its own table: unaligned until the PSI and the index."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vfl.data.tables import FeatureTable, SampleIndex
from vfl.errors import ProtocolError
from vfl.models.bottom import BottomModelConfig
from vfl.party.passive import PassiveParty
from vfl.psi import PsiClient

OWN = [f"p{k}" for k in range(12)]
ACTIVE = [f"p{k}" for k in range(4, 20)]  # shares p4..p11 with the party


def party() -> PassiveParty:
    x = np.arange(len(OWN) * 3, dtype=np.float64).reshape(len(OWN), 3) ** 1.5
    table = FeatureTable(tuple(OWN), x, ("a", "b", "c"), "party-0.csv")
    return PassiveParty.from_table("passive-0", table, BottomModelConfig(name="mlp"))


def run_psi(p: PassiveParty, session: str = "s1") -> list[str]:
    """The active party's half, by hand: what Coordinator.align does over the protocol."""
    client = PsiClient(ACTIVE, session)
    size, chunks = p.align_begin(session, len(ACTIVE))
    assert size == len(OWN)
    alignment = p.align_session(session)
    setup = [alignment.setup_chunk(i) for i in range(chunks)]
    response = [alignment.response(c) for c in client.request()]
    shared = client.intersection(setup, response)
    reveal = client.reveal()
    for i, chunk in enumerate(reveal):
        answer = alignment.reveal(chunk, last=i == len(reveal) - 1)
    assert answer == len(shared)
    return shared


def test_embed_and_backward_before_alignment_name_the_command() -> None:
    p = party()
    assert p.info().n_samples == 0
    with pytest.raises(ProtocolError, match="run `vfl align`"):
        p.embed(np.array([0]), train=True)
    with pytest.raises(ProtocolError, match="run `vfl align`"):
        p.backward(np.array([0]), torch.zeros(1, 64))


def test_aligned_party_embeds_wire_positions_of_the_index() -> None:
    p = party()
    shared = run_psi(p)
    assert shared == sorted(set(OWN) & set(ACTIVE))
    index = SampleIndex(tuple(shared[:6]), tuple(shared[6:]))
    p.set_index(index)
    assert p.info().n_samples == len(shared) and p.sample_index == index
    assert p.embed(np.arange(len(shared)), train=False).shape == (len(shared), 64)


def test_index_outside_the_intersection_is_refused_and_changes_nothing() -> None:
    p = party()
    run_psi(p)
    with pytest.raises(ProtocolError, match="1 of 3 IDs are not in this party's intersection"):
        p.set_index(SampleIndex(("p4", "p5"), ("p19",)))
    assert p.sample_index is None
    with pytest.raises(ProtocolError, match="not aligned yet"):
        p.embed(np.array([0]), train=False)


def test_set_index_before_the_reveal_and_a_foreign_session_are_refused() -> None:
    p = party()
    with pytest.raises(ProtocolError, match="no alignment begun"):
        p.set_index(SampleIndex(("p4",), ("p5",)))
    p.align_begin("s1", len(ACTIVE))
    with pytest.raises(ProtocolError, match="has not finished"):
        p.set_index(SampleIndex(("p4",), ("p5",)))
    with pytest.raises(ProtocolError, match="session 'other'"):
        p.align_session("other")


def test_peer_size_beyond_the_limit_is_refused() -> None:
    with pytest.raises(ProtocolError, match="announces 0 IDs"):
        party().align_begin("s1", 0)
