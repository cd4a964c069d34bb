"""A step's gradients travel with the next embed: one call per party per step, same results."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from vfl.coordinator import Coordinator, TrainConfig, cross_entropy_objective
from vfl.data import Dataset
from vfl.errors import ProtocolError, UnknownSampleError
from vfl.federation import FederationSpec, build_active_party, build_passive_party
from vfl.party.optim import UpdateConfig
from vfl.party.passive import PassiveParty
from vfl.protocol.client import InProcessClient
from vfl.unlearning import UnlearnConfig, UnlearningContext, create_method

BATCH = 128
TRAIN = TrainConfig(epochs=2, batch_size=BATCH)


class CountingClient(InProcessClient):
    """The in-process client, counting the calls that reach the party."""

    def __init__(self, party: PassiveParty) -> None:
        super().__init__(party)
        self.calls: Counter[str] = Counter()

    def embed(self, ids: np.ndarray, train: bool) -> torch.Tensor:
        self.calls["embed"] += 1
        return super().embed(ids, train)

    def backward(self, ids: np.ndarray, grad: torch.Tensor) -> None:
        self.calls["backward"] += 1
        super().backward(ids, grad)

    def backward_and_embed(
        self, ids: np.ndarray, grad: torch.Tensor, next_ids: np.ndarray, train: bool
    ) -> torch.Tensor:
        self.calls["backward_and_embed"] += 1
        return super().backward_and_embed(ids, grad, next_ids, train)


class SendAtOnce(Coordinator):
    """The coordinator without pipelining: each step's gradients go out at once."""

    def step(self, ids, objective, ahead=None) -> float:  # type: ignore[no-untyped-def]
        loss = super().step(ids, objective, ahead)
        self.flush()
        return loss


class EmbedAgain(Coordinator):
    """The coordinator without look-ahead: every step embeds its IDs itself."""

    def step(self, ids, objective, ahead=None) -> float:  # type: ignore[no-untyped-def]
        return super().step(ids, objective)


def federation(
    spec: FederationSpec, data: Dataset, cls: type[Coordinator] = Coordinator
) -> tuple[Coordinator, list[CountingClient]]:
    clients = [CountingClient(build_passive_party(spec, p, data)) for p in spec.party_ids()]
    active = build_active_party(spec, [c.info().embed_dim for c in clients], data)
    return cls(active, clients), clients


def step(co: Coordinator, ids: np.ndarray) -> None:
    co.step(ids, cross_entropy_objective(co.active.labels_of(ids)))


@pytest.fixture
def small(digits_spec: FederationSpec, digits: Dataset) -> tuple[FederationSpec, Dataset]:
    return digits_spec, digits


def test_training_makes_one_call_per_party_per_step(small) -> None:
    spec, data = small
    co, clients = federation(spec, data)
    ids = data.train_ids[: 5 * BATCH]
    co.train(ids, TrainConfig(epochs=2, batch_size=BATCH), seed=0)
    steps = 2 * 5
    for c in clients:
        # the first step embeds alone; each later step carries the one before's
        # gradients; train() sends the last step's gradients before it returns
        assert c.calls == {"embed": 1, "backward_and_embed": steps - 1, "backward": 1}
    co.close()


def test_pipelined_training_equals_sending_each_gradient_at_once(small) -> None:
    spec, data = small
    cfg = TrainConfig(epochs=2, batch_size=BATCH)
    digests = []
    for cls in (Coordinator, SendAtOnce):
        co, _ = federation(spec, data, cls)
        co.train(data.train_ids[: 4 * BATCH], cfg, seed=0)
        digests.append(co.digests())
        co.close()
    assert digests[0] == digests[1]
    assert len(set(digests[0].values())) == len(digests[0])  # every party has its own weights


def test_evaluation_carries_the_last_steps_gradients(small) -> None:
    spec, data = small
    co, clients = federation(spec, data)
    ids = data.train_ids[:BATCH]
    step(co, ids)
    before = co.predict(ids)  # the eval embed applies the step first
    assert all(c.calls["backward_and_embed"] == 1 for c in clients)
    assert all(c.calls["backward"] == 0 for c in clients)
    co.flush()  # nothing left to send
    assert all(c.calls["backward"] == 0 for c in clients)
    np.testing.assert_array_equal(co.predict(ids), before)
    co.close()


def test_a_trial_holds_the_last_step_and_undo_drops_unsent_gradients(small) -> None:
    spec, data = small
    co, clients = federation(spec, data)
    ids = data.train_ids[:BATCH]
    start = co.digests()
    with co.trial("start") as trial:
        step(co, ids)
        trial.undo()  # the step's gradients never leave the active party
    assert co.digests() == start
    assert all(c.calls["backward"] + c.calls["backward_and_embed"] == 0 for c in clients)

    co.close()

    restored = []
    for cls in (Coordinator, SendAtOnce):
        co, _ = federation(spec, data, cls)
        step(co, ids)
        co.flush()  # explicitly: opening a trial never sends gradients itself
        with co.trial("stepped") as trial:
            step(co, ids)
            trial.undo()
        restored.append(co.digests())
        co.close()
    assert restored[0] == restored[1]


def _read(co: Coordinator, name: str) -> None:
    """``name``, one of the operations that must not send gradients as a side effect."""
    if name == "trial":
        with co.trial("token") as trial:
            trial.keep()
    elif name == "begin":
        co.begin("token")
        co.abort("token")
    else:
        getattr(co, name)()


@pytest.mark.parametrize("read", ["trial", "begin", "digests", "versions"])
def test_reads_refuse_while_gradients_are_unsent_and_send_nothing(small, read) -> None:
    """A read never applies training as a side effect: it says what to do instead."""
    spec, data = small
    co, clients = federation(spec, data)
    step(co, data.train_ids[:BATCH])
    before = {c.party_id: c._party.digest() for c in clients}  # after the embed (BatchNorm)
    with pytest.raises(ProtocolError, match=r"unsent; call Coordinator.flush\(\)"):
        _read(co, read)
    assert {c.party_id: c._party.digest() for c in clients} == before
    assert all(c.calls["backward"] + c.calls["backward_and_embed"] == 0 for c in clients)
    co.flush()
    assert all(c._party.digest() != before[c.party_id] for c in clients)
    _read(co, read)  # fine once flushed
    co.close()


def test_a_refused_embed_still_delivers_the_last_steps_gradients(small) -> None:
    """The party refuses the combined call whole; the gradient must arrive anyway."""
    spec, data = small
    ids = data.train_ids[:BATCH]
    digests = []
    for cls in (Coordinator, SendAtOnce):
        co, _ = federation(spec, data, cls)
        step(co, ids)
        with pytest.raises(UnknownSampleError):
            co.predict(np.array([10**9]))
        digests.append(co.digests())
        co.close()
    assert digests[0] == digests[1]


def test_luv_pipelined_equals_sending_each_gradient_at_once(small) -> None:
    """Trials, measurements, undos and keeps interleave with the steps here."""
    spec, data = small
    digests = []
    for cls in (Coordinator, SendAtOnce):
        co, _ = federation(spec, data, cls)
        co.train(data.train_ids, TrainConfig(epochs=2, batch_size=BATCH), seed=0)
        create_method("luv").run(UnlearningContext(co, [3], UnlearnConfig(epochs=4), TRAIN, 0))
        digests.append(co.digests())
        co.close()
    assert digests[0] == digests[1]


def test_luv_reusing_its_measurements_equals_embedding_each_step_again(small) -> None:
    """LUV's forget step reuses the last measurement's embeddings: same weights, fewer calls."""
    spec, data = small
    digests, calls = [], []
    for cls in (Coordinator, EmbedAgain):
        co, clients = federation(spec, data, cls)
        co.train(data.train_ids, TrainConfig(epochs=2, batch_size=BATCH), seed=0)
        before = sum(clients[0].calls.values())
        create_method("luv").run(UnlearningContext(co, [3], UnlearnConfig(epochs=4), TRAIN, 0))
        co.flush()
        digests.append(co.digests())
        calls.append(sum(clients[0].calls.values()) - before)
        co.close()
    assert digests[0] == digests[1]
    assert calls[0] < calls[1]


def test_a_stale_look_ahead_is_refused(small) -> None:
    spec, data = small
    co, _ = federation(spec, data)
    ids = data.train_ids[:BATCH]
    objective = cross_entropy_objective(co.active.labels_of(ids[:8]))
    _, ahead = co.logits_ahead(ids)
    assert ahead is not None
    co.step(ids[:8], objective, ahead)  # the parties hold its graph: fine once
    with pytest.raises(ProtocolError, match="stale"):
        co.step(ids[:8], objective, ahead)  # its gradients are unsent: the graph is spoken for
    co.flush()
    _, ahead = co.logits_ahead(ids)
    co.configure(UpdateConfig())  # replaces every optimizer, and with it the graph
    with pytest.raises(ProtocolError, match="stale"):
        co.step(ids[:8], objective, ahead)
    co.close()


def test_rollback_to_the_current_version_keeps_the_last_step(small) -> None:
    spec, data = small
    twin, _ = federation(spec, data, SendAtOnce)
    co, _ = federation(spec, data)
    for c in (co, twin):
        step(c, data.train_ids[:BATCH])
        c.rollback(0)  # every party is at version 0 already: nothing is replaced
    assert co.digests() == twin.digests()


def test_close_sends_nothing_but_running_sends_on_a_normal_exit(small) -> None:
    spec, data = small
    co, clients = federation(spec, data)
    step(co, data.train_ids[:BATCH])
    co.close()  # e.g. after an error: the run's last gradients stay at the active party
    assert all(c.calls["backward"] == 0 for c in clients)

    co, clients = federation(spec, data)
    with co.running():
        step(co, data.train_ids[:BATCH])
    assert all(c.calls["backward"] == 1 for c in clients)

    co, clients = federation(spec, data)
    with pytest.raises(RuntimeError), co.running():
        step(co, data.train_ids[:BATCH])
        raise RuntimeError("the run fails")
    assert all(c.calls["backward"] == 0 for c in clients)


def test_a_trial_must_be_kept_or_undone_explicitly(small) -> None:
    spec, data = small
    co, _ = federation(spec, data)
    start = co.digests()
    with pytest.raises(ProtocolError, match="without keep"), co.trial("undecided"):
        step(co, data.train_ids[:BATCH])
    assert co.digests() == start  # an undecided trial is undone, not silently kept
    with co.trial("twice") as trial:
        trial.keep()
        with pytest.raises(ProtocolError, match="already kept or undone"):
            trial.undo()
    co.close()
