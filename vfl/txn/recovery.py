"""Finishing what a previous coordinator left unfinished, and repairing a version split.

On restart the active server calls :func:`recover` before it takes requests:
a request whose commit decision was journaled is rolled forward, any other
unfinished one is aborted, and its journal row says what happened.
:func:`repair` (``vfl repair``) rolls every party back to the newest version
all of them hold, so requests are accepted again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from vfl.coordinator import Coordinator
from vfl.errors import ProtocolError, VFLError
from vfl.protocol.client import PassivePartyClient
from vfl.txn.journal import RequestJournal
from vfl.txn.records import RequestRecord
from vfl.txn.versions import VersionedParties

__all__ = ["RESTART_REASON", "recover", "recover_unfinished", "repair"]

log = logging.getLogger(__name__)

RESTART_REASON = "coordinator restarted mid-request"


def recover_unfinished(
    journal: RequestJournal,
    abort: Callable[[str], list[str]],
    digests: Callable[[], dict[str, str]],
    commit: Callable[[str], list[str]] | None = None,
) -> list[RequestRecord]:
    """Finish every request a previous coordinator left ``queued`` or ``running``.

    A request whose commit decision was journaled is rolled FORWARD:
    ``commit(token)`` asks every party to commit (a party that restarted
    finds its prepared candidate on disk), and the row becomes ``committed``
    once every party runs its decided digest. Any other unfinished request is
    aborted: ``abort(token)`` asks every party to go back to where the request
    began (and drop its candidate); a party that restarted is already at
    its last committed version. The row is kept (only status, error, finish
    time and ``digests_after`` change); a party whose digest differs from
    where it should be is named in the error.
    """
    recovered = []
    for record in (r for r in journal.all() if not r.done):
        decision = journal.decision(record.id) if commit is not None else None
        if decision is not None and commit is not None:
            notes = commit(record.id)
            target = {party: digest for party, (_, digest) in decision.items()}
        else:
            notes = abort(record.id) if record.status == "running" else []
            target = record.digests_before
        try:
            now = digests()
        except VFLError as exc:
            notes.append(f"reading digests failed: {exc}")
            now = {}
        moved = sorted(p for p, d in target.items() if now.get(p) != d)
        record.finished_at, record.digests_after = time.time(), now
        if decision is not None and now and not moved:
            record.status, record.error = "committed", ""
        elif decision is not None:
            record.status = "running"  # decided: never abort; the next restart retries
            record.error = "; ".join([RESTART_REASON, "commit pending", *notes])
            if moved:
                record.error += f"; not at the decided version: {', '.join(moved)}"
        else:
            if now and moved:
                notes.append(f"not at the pre-request digest: {', '.join(moved)}")
            record.status = "aborted"
            record.error = "; ".join([RESTART_REASON, *notes])
        journal.put(record)
        recovered.append(record)
    return recovered


def _on_every_passive(
    co: Coordinator, doing: str, call: Callable[[PassivePartyClient], object]
) -> list[str]:
    """``call`` every passive party; return the problems.

    A party that answers "no such request or candidate" restarted (and is at
    its last committed version) or already did it; the caller checks every
    party's digest afterwards anyway.
    """
    problems = []
    for client in co.clients:
        try:
            call(client)
        except ProtocolError:  # the party's refusal, on any transport
            pass
        except VFLError as exc:
            problems.append(f"{doing} {client.party_id} failed: {exc}")
    return problems


def _abort_everywhere(co: Coordinator, token: str) -> list[str]:
    """Abort ``token`` everywhere; this process's own model was loaded from disk,
    so only its prepared candidate (if any) is left to drop."""
    problems = _on_every_passive(co, "aborting", lambda c: c.abort(token))
    if co.active.durable is not None:
        co.active.durable.discard(token)
    return problems


def _commit_everywhere(co: Coordinator, token: str) -> list[str]:
    """Roll a decided request forward everywhere (the active party from its candidate on disk)."""
    problems = _on_every_passive(co, "committing", lambda c: c.commit(token))
    try:
        co.active.commit(token)
    except ProtocolError:  # committed before the crash
        pass
    except VFLError as exc:
        problems.append(f"committing active failed: {exc}")
    return problems


def recover(journal: RequestJournal, co: Coordinator) -> list[RequestRecord]:
    """:func:`recover_unfinished` over a coordinator's parties (what the active server runs)."""
    return recover_unfinished(
        journal,
        lambda token: _abort_everywhere(co, token),
        co.digests,
        lambda token: _commit_everywhere(co, token),
    )


def repair(parties: VersionedParties, reload: bool = False) -> int:
    """Roll every party back to the newest version all of them hold; return it.

    Parties keep their last few versions, so the lowest current version is
    held by every party unless one fell back further than that (then the
    rollback names the party and what it holds). With ``reload`` every party
    loads that version from disk even when it is already at it (its weights
    were in doubt). The caller holds off requests meanwhile
    (:meth:`~vfl.txn.runner.RequestRunner.repair`).
    """
    versions = parties.versions()
    target = min(versions.values())
    if len(set(versions.values())) > 1 or reload:
        log.warning("repair: rolling every party back to v%d (were %s)", target, versions)
        parties.rollback(target)
    return target
