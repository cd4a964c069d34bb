"""What the request machinery needs of the parties, and the version check that guards it.

:class:`VersionedParties` is the whole federation seen as one transaction
participant (the :class:`~vfl.coordinator.Coordinator` is one). A request runs
only while every party is at one model version: a split (a party that fell
back to an older checkpoint, say) is refused with every party's version and
the command that repairs it.
"""

from __future__ import annotations

from typing import Protocol

from vfl.errors import VFLError
from vfl.txn.records import Decision

__all__ = [
    "REPAIR_HINT",
    "PartyInDoubtError",
    "VersionMismatchError",
    "VersionedParties",
    "at_decision",
    "check_versions",
]

REPAIR_HINT = "vfl repair --coordinator HOST:PORT"


class VersionMismatchError(VFLError):
    """The parties are not all at one model version: requests are refused until a repair."""


class PartyInDoubtError(VersionMismatchError):
    """A party's weights may not be its version's (an abort did not reach it): requests
    are refused until a retried abort or ``vfl repair`` settles it."""


class VersionedParties(Protocol):
    """Every party's all-or-nothing operations, fanned out (the coordinator)."""

    def begin(self, token: str) -> None: ...
    def prepare(self, token: str) -> Decision: ...
    def commit(self, token: str) -> list[int]: ...
    def abort(self, token: str) -> None: ...
    def abort_if_open(self, token: str) -> None: ...
    def digests(self) -> dict[str, str]: ...
    def versions(self) -> dict[str, int]: ...
    def rollback(self, version: int) -> None: ...


def check_versions(versions: dict[str, int], repair: str = REPAIR_HINT) -> None:
    """Raise :class:`VersionMismatchError` naming every party's version and the fix."""
    if len(set(versions.values())) <= 1:
        return
    listed = ", ".join(f"{party} at v{version}" for party, version in versions.items())
    raise VersionMismatchError(
        f"the parties are at different model versions ({listed}); run `{repair}` to roll "
        f"every party back to the newest version all of them hold (v{min(versions.values())})"
    )


def at_decision(parties: VersionedParties, decision: Decision) -> bool:
    """Whether every party already runs its decided version (e.g. it committed, then restarted)."""
    try:
        return parties.digests() == {party: digest for party, (_, digest) in decision.items()}
    except Exception:  # a party still down
        return False
