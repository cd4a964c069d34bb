"""What a passive party sees during a hidden request: every ID alike, equal gradient norms."""

from __future__ import annotations

import numpy as np
import pytest

from vfl.coordinator import TrainConfig
from vfl.federation import FederationSpec
from vfl.protocol.client import RecordingClient
from vfl.transport import open_federation
from vfl.unlearning import UnlearnConfig, UnlearningContext, create_method, method_names
from vfl.unlearning.fewshot import FORGET_SALT
from vfl.unlearning.hiding import cover_batches


@pytest.fixture(scope="module")
def hidden_request() -> dict:
    spec = FederationSpec(dataset="digits")
    dataset = spec.load()
    with open_federation("inprocess", spec, dataset) as co:
        co.clients = [RecordingClient(c) for c in co.clients]
        co.train(dataset.train_ids, TrainConfig(epochs=5), seed=0)
        for c in co.clients:
            c.calls.clear()
        ctx = UnlearningContext(co, [3], UnlearnConfig(epochs=3), TrainConfig(), seed=0)
        create_method("luv-hidden").run(ctx)
        return {
            "calls": [list(c.calls) for c in co.clients],
            "forget": ctx.few_shot([3], ctx.config.forget_samples, FORGET_SALT),
            "transforms_left": len(co.gradient_transforms),
        }


def test_luv_hidden_is_registered() -> None:
    assert "luv-hidden" in method_names()


def test_every_requested_id_is_embedded_equally_often(hidden_request: dict) -> None:
    for calls in hidden_request["calls"]:
        ids = np.concatenate([c.args["ids"] for c in calls if c.method == "embed"])
        _, counts = np.unique(ids, return_counts=True)
        assert counts.min() == counts.max()
        assert np.isin(hidden_request["forget"], ids).all()
        assert np.unique(ids).size >= 10 * hidden_request["forget"].size  # decoys of 9 classes


def test_forget_ids_never_travel_alone_and_gradients_look_alike(
    hidden_request: dict,
) -> None:
    for calls in hidden_request["calls"]:
        for call in calls:
            ids = call.args.get("ids")
            if ids is not None:
                forget = np.isin(ids, hidden_request["forget"])
                assert 0 < forget.mean() < 0.2  # always mixed with many other IDs
            if call.method == "backward":
                grad = call.args["grad"]
                norms = grad.norm(dim=1)
                assert np.allclose(norms, norms.mean(), rtol=1e-4)
                # every row agrees equally with the rest of its batch
                along = grad @ (grad.mean(0) / grad.mean(0).norm())
                assert np.allclose(along, along.mean(), rtol=1e-3)


def test_the_equalising_transform_is_removed_afterwards(hidden_request: dict) -> None:
    assert hidden_request["transforms_left"] == 0


def test_cover_batches_spread_forget_ids_evenly() -> None:
    rng = np.random.default_rng(0)
    forget, retain = np.arange(10), np.arange(100, 190)
    batches = cover_batches(forget, retain, batch_size=25, rng=rng)
    assert len(batches) == 4
    assert sorted(np.concatenate(batches).tolist()) == [*range(10), *range(100, 190)]
    assert all(2 <= np.isin(b, forget).sum() <= 3 for b in batches)
