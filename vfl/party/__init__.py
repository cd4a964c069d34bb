"""The parties of a VFL federation (the protocol that reaches them is :mod:`vfl.protocol`)."""

from vfl.party.active import ActiveParty, Objective, StepResult
from vfl.party.optim import UpdateConfig
from vfl.party.passive import PartyInfo, PassiveParty

__all__ = [
    "ActiveParty",
    "Objective",
    "PartyInfo",
    "PassiveParty",
    "StepResult",
    "UpdateConfig",
]
