"""FlowerPassiveClient against the real vfl ClientApp, without SuperLink processes.

``DirectLink`` hands each Message straight to the ClientApp (the part Flower's
processes would relay), so these tests are fast; the deployment itself is
covered by test_flower_integration.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from flwr.app import Context, Message, RecordDict
from flwr.supercore.task_identity import TaskIdentity

from vfl.data.base import Dataset
from vfl.errors import ConfigError, ProtocolError
from vfl.federation import FederationSpec, build_passive_party
from vfl.flower import client_app
from vfl.flower.client import FlowerPassiveClient, connect_party
from vfl.flower.crypto import generate_keypair, load_private_key, load_public_key
from vfl.party.optim import UpdateConfig
from vfl.protocol.client import InProcessClient

RUN_ID, NODE_ID, PARTY = 11, 3, "passive-0"


class DirectLink:
    """Delivers each message to this process's ClientApp and returns its reply."""

    def __init__(self) -> None:
        self.context = Context(
            run_id=RUN_ID, node_id=NODE_ID, node_config={}, state=RecordDict(), run_config={}
        )

    def request(self, node_id: int, message_type: str, content: RecordDict) -> RecordDict:
        msg = Message(content, dst_node_id=node_id, message_type=message_type)
        return client_app.app(msg, self.context).content


@pytest.fixture(scope="module")
def spec_data() -> tuple[FederationSpec, Dataset]:
    spec = FederationSpec(dataset="digits", parties=2)
    return spec, spec.load()


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    for name in ("active", PARTY):
        generate_keypair(tmp_path, name)
    return tmp_path


@pytest.fixture
def flower_client(
    keys: Path, spec_data: tuple[FederationSpec, Dataset]
) -> Iterator[FlowerPassiveClient]:
    spec, data = spec_data
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = RUN_ID, 0, 1
    client_app.serve(
        client_app.PassiveEndpoint(
            party=build_passive_party(spec, PARTY, data),
            private=load_private_key(keys / f"{PARTY}.key"),
            active_key=load_public_key(keys / "active.pub"),
        )
    )
    client, info = connect_party(
        DirectLink(),  # type: ignore[arg-type]
        NODE_ID,
        load_private_key(keys / "active.key"),
        {PARTY: load_public_key(keys / f"{PARTY}.pub")},
        RUN_ID,
    )
    assert info.party_id == PARTY
    yield client
    client_app.serve(None)


def test_a_training_step_matches_the_in_process_party(
    flower_client: FlowerPassiveClient, spec_data: tuple[FederationSpec, Dataset]
) -> None:
    spec, data = spec_data
    twin = InProcessClient(build_passive_party(spec, PARTY, data))
    ids = data.train_ids[:32]
    for client in (flower_client, twin):
        client.configure(UpdateConfig(lr=0.05))
        emb = client.embed(ids, train=True)
        client.backward(ids, torch.ones_like(emb) / emb.numel())
    np.testing.assert_array_equal(
        flower_client.embed(ids, train=False).numpy(), twin.embed(ids, train=False).numpy()
    )
    assert flower_client.info().digest == twin.info().digest


def test_calls_without_answers_ride_with_the_next_call(flower_client: FlowerPassiveClient) -> None:
    ids = np.arange(8)
    before = flower_client.round_trips
    flower_client.open_trial("s")
    emb = flower_client.embed(ids, train=True)
    flower_client.backward(ids, torch.zeros_like(emb))
    flower_client.undo_trial("s")
    assert flower_client.round_trips == before + 1
    flower_client.begin("t")
    flower_client.prepare("t")
    assert flower_client.commit("t") == 1
    assert flower_client.round_trips == before + 3


def test_a_failed_deferred_call_surfaces_at_the_next_answer(
    flower_client: FlowerPassiveClient,
) -> None:
    flower_client.backward(np.arange(4), torch.zeros(4, 8))  # no embed(train=True) before it
    with pytest.raises(ProtocolError, match=r"party passive-0: backward without a preceding embed"):
        flower_client.info()
    flower_client.info()  # the session survives a failed call


def test_a_node_with_an_unpinned_key_is_refused(
    keys: Path, flower_client: FlowerPassiveClient
) -> None:
    generate_keypair(keys, "stranger")
    with pytest.raises(ConfigError, match="no pinned public key"):
        connect_party(
            DirectLink(),  # type: ignore[arg-type]
            NODE_ID,
            load_private_key(keys / "active.key"),
            {"passive-1": load_public_key(keys / "stranger.pub")},
            RUN_ID,
        )


def test_a_clientapp_without_a_party_says_how_to_run_one() -> None:
    client_app.serve(None)
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = RUN_ID, 0, 1
    with pytest.raises(ConfigError, match=r"python -m vfl\.flower\.worker"):
        DirectLink().request(NODE_ID, "query.hello", RecordDict())
