"""A trial or a request goes back to the optimizer it started with, not only its state.

A method may switch optimizers inside (luv-samples steps with SGD; training uses
Adam). Undoing the trial, or aborting the request, must leave the party with
the optimizer kind and settings its restored state belongs to: Adam's state
does not load into SGD, nor SGD's into Adam (a later Adam step failed with
KeyError 'step').
"""

from __future__ import annotations

import pytest
import torch

from vfl.data import Dataset
from vfl.federation import FederationSpec, build_passive_party
from vfl.party.optim import UpdateConfig
from vfl.party.passive import PassiveParty

ADAM = UpdateConfig(optimizer="adam", lr=1e-3)
SGD = UpdateConfig(optimizer="sgd", lr=0.1, momentum=0.9)


def step(party: PassiveParty, ids) -> None:  # type: ignore[no-untyped-def]
    out = party.embed(ids, train=True)
    party.backward(ids, torch.ones_like(out))


@pytest.fixture
def party(digits_spec: FederationSpec, digits: Dataset) -> PassiveParty:
    p = build_passive_party(digits_spec, digits_spec.party_ids()[0], digits)
    p.configure(ADAM)
    step(p, digits.train_ids[:32])  # Adam has state now
    return p


@pytest.mark.parametrize("how", ["trial", "request"])
def test_going_back_restores_the_optimizer_the_state_belongs_to(
    party: PassiveParty, digits: Dataset, how: str
) -> None:
    ids = digits.train_ids[:32]
    before = party.digest()
    if how == "trial":
        party.open_trial("t")
    else:
        party.begin("r")
    party.configure(SGD)  # what a sample-level method does inside
    step(party, ids)
    if how == "trial":
        party.undo_trial("t")
    else:
        party.abort("r")
    assert party.digest() == before
    assert party._update == ADAM and isinstance(party._optimizer, torch.optim.Adam)
    step(party, ids)  # Adam steps on its own restored state (KeyError 'step' before)
    assert party.digest() != before
