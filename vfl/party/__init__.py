"""The parties of a VFL federation and the transport-agnostic client interface."""

from vfl.party.active import ActiveParty, Objective, StepResult
from vfl.party.client import InProcessClient, PassivePartyClient, RecordedCall, RecordingClient
from vfl.party.optim import UpdateConfig
from vfl.party.passive import PartyInfo, PassiveParty

__all__ = [
    "ActiveParty",
    "InProcessClient",
    "Objective",
    "PartyInfo",
    "PassiveParty",
    "PassivePartyClient",
    "RecordedCall",
    "RecordingClient",
    "StepResult",
    "UpdateConfig",
]
