"""The passive party's own checks: bad requests fail clearly and change nothing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vfl.errors import ProtocolError, UnknownSampleError, WireFormatError
from vfl.federation import build_passive_party


@pytest.fixture
def party(digits_spec, digits):
    return build_passive_party(digits_spec, "passive-0", digits)


def test_embed_then_backward_changes_the_model(party) -> None:
    ids = np.arange(8, dtype=np.int64)
    before = party.digest()
    out = party.embed(ids, train=True)
    party.backward(ids, torch.ones_like(out))
    assert party.digest() != before


@pytest.mark.parametrize(
    ("ids", "error"),
    [
        (np.array([1, 2, 2]), ProtocolError),
        (np.array([10**9]), UnknownSampleError),
        (np.array([], dtype=np.int64), ProtocolError),
        (np.array([[1, 2]]), ProtocolError),
        (np.array([0.5, 1.0]), ProtocolError),
    ],
)
def test_bad_ids_are_rejected(party, ids, error) -> None:
    with pytest.raises(error):
        party.embed(ids, train=True)


def test_backward_must_follow_a_training_embed_with_the_same_ids(party) -> None:
    before = party.digest()
    ids = np.arange(4, dtype=np.int64)
    with pytest.raises(ProtocolError, match="without a preceding"):
        party.backward(ids, torch.zeros(4, party.embed_dim))
    out = party.embed(ids, train=True)  # a training forward updates BatchNorm statistics
    before = party.digest()
    with pytest.raises(ProtocolError, match="differ"):
        party.backward(ids + 1, torch.zeros_like(out))
    # IDs that are not the embed's are refused for what is wrong with them
    for bad, why in [
        (ids.astype(float), "integers"),
        (ids[:, None], "1-D"),
        (ids[[0, 0]], "unique"),
    ]:
        with pytest.raises(ProtocolError, match=why):
            party.backward(bad, torch.zeros_like(out))
    with pytest.raises(WireFormatError, match="gradient must have shape"):
        party.backward(ids, torch.zeros(3, party.embed_dim))
    with pytest.raises(ProtocolError, match="NaN"):
        party.backward(ids, torch.full_like(out, float("nan")))
    assert party.digest() == before


def test_a_trial_is_undone_or_kept_and_never_makes_a_version(party) -> None:
    v0, d0 = party.version, party.digest()
    ids = np.arange(4, dtype=np.int64)
    party.open_trial("t")
    party.backward(ids, torch.ones_like(party.embed(ids, train=True)))
    party.undo_trial("t")
    assert party.digest() == d0 and party.version == v0
    party.open_trial("t")
    party.backward(ids, torch.ones_like(party.embed(ids, train=True)))
    party.keep_trial("t")
    assert party.digest() != d0 and party.version == v0
    with pytest.raises(ProtocolError, match="no open trial"):
        party.undo_trial("t")


def test_a_request_commits_only_its_prepared_candidate_and_aborts_back_to_its_begin(party) -> None:
    v0, d0 = party.version, party.digest()
    ids = np.arange(4, dtype=np.int64)
    party.begin("r")
    party.backward(ids, torch.ones_like(party.embed(ids, train=True)))
    with pytest.raises(ProtocolError, match="not prepared"):
        party.commit("r")
    party.abort("r")
    assert (party.version, party.digest()) == (v0, d0)
    party.begin("r2")
    party.backward(ids, torch.ones_like(party.embed(ids, train=True)))
    version, digest = party.prepare("r2")
    assert party.commit("r2") == version == v0 + 1 and party.digest() == digest
    assert party.commit("r2") == version  # a retried commit is a no-op
    with pytest.raises(ProtocolError, match="no open request"):
        party.abort("r2")


def test_eval_embedding_does_not_touch_batchnorm_statistics(party) -> None:
    before = party.digest()
    party.embed(np.arange(32, dtype=np.int64), train=False)
    assert party.digest() == before


def test_frozen_norm_stats_keep_running_statistics(party) -> None:
    from vfl.party import UpdateConfig

    party.configure(UpdateConfig(freeze_norm_stats=True))
    stats = {k: v.clone() for k, v in party.model.state_dict().items() if "running" in k}
    assert stats, "the bottom model should have BatchNorm"
    ids = np.arange(16, dtype=np.int64)
    party.backward(ids, torch.ones_like(party.embed(ids, train=True)))
    after = party.model.state_dict()
    for key, value in stats.items():
        assert torch.equal(after[key], value), key


def test_trials_nest_inside_a_request_never_around_it(party) -> None:
    v0 = party.version
    party.open_trial("outside")
    with pytest.raises(ProtocolError, match="a trial is open"):
        party.begin("request")
    party.keep_trial("outside")
    party.begin("request")
    with pytest.raises(ProtocolError, match="still open"):
        party.begin("another")
    party.open_trial("epoch")
    party.open_trial("inner")
    assert party.open_trials == 2
    with pytest.raises(ProtocolError, match="a trial is still open"):
        party.prepare("request")
    party.keep_trial("epoch")  # the trial opened inside it ends with it
    assert party.open_trials == 0 and party.version == v0
    party.prepare("request")
    assert party.commit("request") == v0 + 1
