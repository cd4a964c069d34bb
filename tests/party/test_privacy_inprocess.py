"""Nothing a passive party receives can carry a label, a class id or a loss.

Checked structurally: every call that reaches a passive party is recorded by
``RecordingClient``, and every argument must be one of the few allowed kinds.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import FAST_TRAIN
from vfl.party import UpdateConfig
from vfl.unlearning import UnlearnConfig, UnlearningContext, create_method, method_names

ALLOWED_ARGS = {
    "embed": {"ids", "train"},
    "backward": {"ids", "grad"},
    "configure": {"update"},
    "reinitialize": {"seed"},
    "open_trial": {"token"},
    "keep_trial": {"token"},
    "undo_trial": {"token"},
    "begin": {"token", "fence"},  # fence: the coordinator key's fingerprint
    "abort": {"token"},
    "info": set(),
}


def _assert_label_free(calls, embed_dim: int, n_samples: int) -> None:
    for call in calls:
        assert set(call.args) == ALLOWED_ARGS[call.method], call
        for name, value in call.args.items():
            if name == "ids":
                assert value.dtype == np.int64 and value.ndim == 1
                assert len(np.unique(value)) == value.size
                assert value.min() >= 0 and value.max() < n_samples
            elif name == "grad":
                assert isinstance(value, torch.Tensor) and value.dtype == torch.float32
                assert value.ndim == 2 and value.shape[1] == embed_dim
            elif name == "train":
                assert isinstance(value, bool)
            elif name == "update":
                assert isinstance(value, UpdateConfig)
                assert set(UpdateConfig.model_fields) == {
                    "optimizer",
                    "lr",
                    "momentum",
                    "weight_decay",
                    "freeze_norm_stats",
                }
            elif name == "seed":
                assert isinstance(value, int)
            elif name == "token":
                assert isinstance(value, str)
            elif name == "fence":  # empty, or a key fingerprint: 32 hex digits
                assert isinstance(value, str) and len(value) in (0, 32)
                assert set(value) <= set("0123456789abcdef")


@pytest.mark.parametrize("method", method_names())
def test_passive_parties_see_no_labels_during_training_and_unlearning(
    trained, digits, method
) -> None:
    co, clients = trained
    co.train(digits.train_ids[:256], FAST_TRAIN.model_copy(update={"epochs": 1}), seed=0)
    unlearner = create_method(method)
    samples = co.active.labels.train_ids[::60] if "classes" not in unlearner.scopes else None
    ctx = UnlearningContext(
        co, [] if samples is not None else [3], UnlearnConfig(epochs=3),
        FAST_TRAIN.model_copy(update={"epochs": 1}), 0, samples=samples,
    )  # fmt: skip
    co.begin("req-1")  # as a request runs it
    unlearner.run(ctx)
    co.abort("req-1")
    for client in clients:
        assert client.calls, "the recorder saw no traffic"
        _assert_label_free(
            client.calls, client.inner.info().embed_dim, digits.n_train + digits.n_test
        )


def test_tokens_do_not_encode_the_request(trained, digits) -> None:
    """No trial or request token a passive party sees names the forgotten class."""
    from vfl.simulation import ORIGINAL

    co, clients = trained
    with co.trial(ORIGINAL) as original:
        create_method("luv").run(UnlearningContext(co, [7], UnlearnConfig(epochs=3), FAST_TRAIN, 0))
        original.undo()
    tokens = {c.args["token"] for c in clients[0].calls if "token" in c.args}
    assert ORIGINAL in tokens and len(tokens) >= 2
    assert not any(ch.isdigit() for token in tokens for ch in token)


def test_gradients_and_ids_are_all_a_passive_party_gets_during_luv(trained) -> None:
    co, clients = trained
    ctx = UnlearningContext(co, [3], UnlearnConfig(epochs=2), FAST_TRAIN, 0)
    create_method("luv").run(ctx)
    methods = {call.method for call in clients[0].calls}
    assert methods <= {"configure", "embed", "backward", "open_trial", "keep_trial", "undo_trial"}
    # forget and recovery steps share one configuration; only the step size may change
    updates = [c.args["update"] for c in clients[0].calls if c.method == "configure"]
    assert {u.model_copy(update={"lr": 0.0}) for u in updates} == {
        updates[0].model_copy(update={"lr": 0.0})
    }
    tokens = {c.args["token"] for c in clients[0].calls if "token" in c.args}
    assert tokens <= {"unlearn-epoch"}
