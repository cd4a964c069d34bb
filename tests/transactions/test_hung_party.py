"""A hung passive party (SIGSTOP) against real processes with mutual TLS (issue 14 #1, #2).

The coordinator's calls to a party have per-call deadlines far below the
operator's, so ``vfl status`` answers and names the hung party; an abort that
cannot reach a party leaves it *in doubt* (its weights may not be its
version's), which status reports, which refuses new requests, and which the
coordinator settles by aborting again once the party answers (``vfl repair``
does the same on demand).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import grpc
import pytest
from test_operator_hardening import operator_env
from txn_federation import Federation, digests, one_version

from vfl.grpc.errors import RemoteCallError
from vfl.grpc.operator import CoordinatorClient
from vfl.grpc.tls import TLSConfig

pytestmark = pytest.mark.slow

OPERATOR_DEADLINE = 20.0
"""Far below the 300 s a call to a party could take before, far above the 5 s it may now."""


def test_a_hung_party_is_named_in_status_and_a_failed_abort_is_in_doubt_until_settled(
    federation: Federation,
) -> None:
    fed = federation
    fed.commit_train()
    before = fed.states()
    version = one_version(before)
    assert fed.client is not None
    fed.arm("prepared")
    request = fed.client.submit_unlearn([3], "luv")
    fed.wait_paused("prepared")  # every party holds the request's weights, nothing decided
    hung = fed.children["passive-1"].proc
    hung.send_signal(signal.SIGSTOP)
    try:
        fed.resume("prepared")
        record = fed.final(request.id)  # the last version check times out, then the abort
        assert record.status == "aborted" and "aborting failed too" in record.error, record.error
        tls = TLSConfig(certs=fed.certs, identity="admin")
        with CoordinatorClient(fed.coordinator, tls, timeout=OPERATOR_DEADLINE) as quick:
            report = quick.status()  # answers: one quick deadline, not the old 300 s
            parties = {p.party_id: p for p in report.parties}
            assert parties["passive-0"].reachable and not parties["passive-0"].in_doubt
            assert parties["passive-0"].version == version
            stopped = parties["passive-1"]
            assert not stopped.reachable and stopped.in_doubt
            assert "passive-1" in stopped.error and "did not answer" in stopped.error
            assert "in doubt" in stopped.error
            with pytest.raises(RemoteCallError) as refused:  # nothing new runs meanwhile
                quick.submit_train(1, "while-in-doubt")
            assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
            assert "did not reach every party" in str(refused.value)
        shown = subprocess.run(
            [sys.executable, "-m", "vfl", "status", "--json"],
            capture_output=True, text=True, env=operator_env(fed), timeout=120,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        printed = {p["party_id"]: p for p in json.loads(shown.stdout)["parties"]}
        assert printed["passive-1"]["in_doubt"] and not printed["passive-0"]["in_doubt"]
    finally:
        hung.send_signal(signal.SIGCONT)
    version_after, status = fed.client.repair()  # aborts again where open; reloads if needed
    assert version_after == version and not any(p.in_doubt for p in status.parties)
    assert fed.states() == before  # every party is exactly where the request began
    assert all(r.idempotency_key != "while-in-doubt" for r in fed.client.list())
    assert fed.commit_train().digests_before == digests(before)
    assert one_version(fed.states()) == version + 1
