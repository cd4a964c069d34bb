"""A passive party that lies in its embeddings (issue 14 #7), with real processes and mTLS.

passive-1 is restarted as ``tests/fixtures/hostile_serve.py``. Absurd values
(3e38) abort the request naming the party; bounded noise that leaves the
trained model at chance on its own training samples is caught by the
collapse rule (:class:`vfl.metrics.CollapseGuard`), so neither a train nor an
unlearn request commits it.
"""

from __future__ import annotations

import pytest
from txn_federation import Federation, one_version

pytestmark = pytest.mark.slow


def test_absurd_or_collapsing_embeddings_are_never_committed(federation: Federation) -> None:
    fed = federation
    assert fed.client is not None
    fed.commit_train()  # a model well above chance: the collapse rule has something to lose
    before = fed.states()
    mode = fed.workdir / "lying.mode"
    mode.write_text("huge")
    fed.kill("passive-1")
    fed.start_passive("passive-1", lying=mode)
    try:
        huge = fed.final(fed.client.submit_train(1).id)
        assert huge.status == "aborted", huge.error
        assert "party passive-1 sent an embedding of magnitude 3e+38" in huge.error
        for kind, blind in (("train", "blind 1"), ("unlearn", "blind 2")):
            mode.write_text(blind)
            if kind == "train":
                request = fed.client.submit_train(1)
            else:
                request = fed.client.submit_unlearn([3], "luv")
            record = fed.final(request.id)
            assert record.status == "aborted", (kind, record.after)
            assert "the model collapsed: train-set accuracy on the retained classes" in record.error
        assert fed.states() == before  # nothing committed, every party back where it was
    finally:
        mode.write_text("")
        fed.kill("passive-1")
        fed.start_passive("passive-1")
    assert one_version(fed.states()) == one_version(before)
