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
    with pytest.raises(WireFormatError, match="gradient must have shape"):
        party.backward(ids, torch.zeros(3, party.embed_dim))
    with pytest.raises(ProtocolError, match="NaN"):
        party.backward(ids, torch.full_like(out, float("nan")))
    assert party.digest() == before


def test_snapshot_restore_commit(party) -> None:
    v0, d0 = party.version, party.digest()
    party.snapshot("t")
    ids = np.arange(4, dtype=np.int64)
    party.backward(ids, torch.ones_like(party.embed(ids, train=True)))
    party.restore("t")
    assert party.digest() == d0 and party.version == v0
    party.snapshot("t")
    party.backward(ids, torch.ones_like(party.embed(ids, train=True)))
    assert party.commit("t") == v0 + 1
    with pytest.raises(ProtocolError):
        party.restore("t")


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


def test_only_the_outermost_commit_makes_a_new_version(party) -> None:
    v0 = party.version
    party.snapshot("request")
    party.snapshot("epoch")
    assert party.open_snapshots == 2
    party.commit("epoch")
    assert party.version == v0
    party.commit("request")
    assert party.version == v0 + 1 and party.open_snapshots == 0
