"""A party the abort could not reach is kept in doubt until it is settled (issue 14 #1),
in one process (fast): the link to passive-1 is cut while a request aborts."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import torch

from vfl.coordinator import Coordinator
from vfl.errors import VFLError
from vfl.federation import FederationSpec
from vfl.party.store import CheckpointStore
from vfl.protocol.client import PartyLink, PassivePartyClient
from vfl.protocol.messages import Request, Response
from vfl.transport import open_federation
from vfl.txn.journal import MemoryJournal
from vfl.txn.records import RequestRecord
from vfl.txn.runner import RequestRunner
from vfl.txn.versions import PartyInDoubtError

SPEC = FederationSpec(dataset="digits", parties=2, seed=0)


class CutLink:
    """A link that fails like a cut network while ``cut`` is set."""

    def __init__(self, inner: PartyLink) -> None:
        self.inner, self.cut = inner, False

    def call(self, requests: Sequence[Request]) -> list[Response]:
        if self.cut:
            raise VFLError("party passive-1: the network is cut (UNAVAILABLE)")
        return self.inner.call(requests)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[tuple[Coordinator, CutLink, RequestRunner]]:
    with open_federation("inprocess", SPEC, SPEC.load()) as co:
        for client in co.clients:
            CheckpointStore(tmp_path / client.party_id, client.party_id).load_into(
                client._party  # type: ignore[attr-defined]
            )
        CheckpointStore(tmp_path / "active", "active").load_into(co.active)
        link = CutLink(co.clients[1].link)
        co.intercept(1, lambda c: PassivePartyClient(c.party_id, link))
        runner = RequestRunner(co, MemoryJournal())
        yield co, link, runner
        runner.shutdown()


def abort_with_the_link_cut(co: Coordinator, link: CutLink, runner: RequestRunner) -> str:
    """A request that changes every party, then loses passive-1 before it can abort."""

    def work(record: RequestRecord, progress) -> dict:  # type: ignore[no-untyped-def]
        co.reinitialize(7)
        link.cut = True
        raise VFLError("the work failed")

    request = runner.submit(RequestRecord(id="", kind="train"), work)
    record = [e for e in runner.watch(request.id) if isinstance(e, RequestRecord)][-1]
    assert record.status == "aborted" and "aborting failed too" in record.error
    return record.id


def test_the_abort_is_retried_once_the_party_is_back(federation) -> None:  # type: ignore[no-untyped-def]
    co, link, runner = federation
    before = co.digests()
    abort_with_the_link_cut(co, link, runner)
    assert runner.in_doubt is not None and runner.in_doubt.expected == before
    with pytest.raises(PartyInDoubtError, match="did not reach every party"):
        runner.submit(RequestRecord(id="", kind="train"), lambda r, p: {})
    assert len(runner.journal.all()) == 1  # refused: nothing journaled
    link.cut = False  # the worker retries every couple of seconds while nothing runs
    deadline = time.monotonic() + 60
    while runner.in_doubt is not None:
        assert time.monotonic() < deadline, "the abort was never retried"
        time.sleep(0.1)
    assert co.digests() == before


def test_repair_reloads_a_party_whose_weights_drifted_from_its_version(federation) -> None:  # type: ignore[no-untyped-def]
    co, link, runner = federation
    before = co.digests()
    token = abort_with_the_link_cut(co, link, runner)
    party = co.clients[1].link.inner.party  # type: ignore[attr-defined]
    party.abort(token)  # the abort arrived after all, and then the weights moved anyway
    with torch.no_grad():
        next(party.model.parameters()).add_(1.0)
    link.cut = False
    deadline = time.monotonic() + 60
    while "passive-1 not at the pre-request digest" not in (doubt := runner.settle()).reason:
        assert time.monotonic() < deadline, doubt.reason  # the worker may be retrying too
        time.sleep(0.1)
    assert runner.repair() == 0  # still in doubt: every party reloads its version from disk
    assert runner.in_doubt is None and co.digests() == before and co.versions()["passive-1"] == 0
