"""The coordinator's state dir lost while it runs (issue 14 #6), with real processes and mTLS.

SQLite keeps writing into a journal file that was deleted while open, so a
request used to "commit" into the deleted journal, and a restart began an
empty journal with a new signing key. Now a commit decision and a submission
check that the journal file is still the one at its path, and a coordinator
refuses to start when the parties hold versions its state dir has no journal
or key for. The test moves the state dir away (as ``rm -rf`` would, but it can
be put back for the tests after it).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from txn_federation import Federation, one_version

from vfl.grpc.errors import RemoteProtocolError
from vfl.txn.receipts import PRIVATE_KEY_FILE

pytestmark = pytest.mark.slow


def test_a_state_dir_lost_under_the_coordinator_stops_commits_and_a_restart_on_it(
    federation: Federation,
) -> None:
    fed = federation
    fed.commit_train()  # every party holds a version the journal accounts for
    before = fed.states()
    version = one_version(before)
    assert fed.client is not None and version > 0
    state, moved = fed.workdir / "active", fed.workdir / "active.lost"
    fed.arm("prepared")
    request = fed.client.submit_train(1)
    fed.wait_paused("prepared")
    state.rename(moved)
    try:
        fed.resume("prepared")
        record = fed.final(request.id)  # no decision journaled into the vanished file
        assert record.status == "aborted" and "deleted or replaced" in record.error, record.error
        with pytest.raises(RemoteProtocolError, match="deleted or replaced"):
            fed.client.submit_train(1)
        started = subprocess.run(
            fed.second_active(state), capture_output=True, text=True, timeout=180
        )
        errors = [line for line in started.stderr.splitlines() if line.startswith("vfl: error:")]
        assert started.returncode == 2 and "Traceback" not in started.stderr, started.stderr
        assert len(errors) == 1 and f"v{version}" in errors[0], errors
        assert f"signing key {state / PRIVATE_KEY_FILE} is missing" in errors[0]
        assert not state.exists()  # it refused before creating a new key or journal
    finally:
        if state.exists():  # the old code made a fresh state dir
            shutil.rmtree(state)
        moved.rename(state)
    assert fed.states() == before  # the aborted request changed nothing anywhere
    assert fed.commit_train().status == "committed"  # with the state dir back, all is well
    assert one_version(fed.states()) == version + 1
