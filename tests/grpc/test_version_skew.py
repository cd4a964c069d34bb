"""A coordinator with BackwardEmbed still trains a passive party from before it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from parties.passive import PassiveServicer
from tests.grpc.conftest import SPEC
from vfl.federation import build_passive_party
from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.proto import passive_pb2_grpc as pb_grpc
from vfl.grpc.server import NetworkConfig, start_server
from vfl.grpc.tls import PeerGuard, TLSConfig, is_active_party
from vfl.party import InProcessClient


class OldServicer(PassiveServicer):
    """The passive servicer as it was before ``BackwardEmbed``: gRPC answers UNIMPLEMENTED."""

    BackwardEmbed = pb_grpc.PassivePartyServicer.BackwardEmbed


@pytest.fixture
def old_party(certs: Path) -> Iterator[GrpcPassiveClient]:
    party = build_passive_party(SPEC, "passive-0")
    servicer = OldServicer(party)
    network = NetworkConfig(tls=TLSConfig(certs=certs, identity="passive-0"))
    running = start_server(
        network,
        lambda server: pb_grpc.add_PassivePartyServicer_to_server(servicer, server),
        PeerGuard(is_active_party, "the active party"),
    )
    client = GrpcPassiveClient(
        "passive-0", f"127.0.0.1:{running.port}", TLSConfig(certs=certs, identity="active")
    )
    yield client
    client.close()
    running.stop()


def test_an_old_party_gets_two_calls_with_the_same_result(old_party) -> None:
    twin = InProcessClient(build_passive_party(SPEC, "passive-0"))
    ids, grad = np.arange(16), torch.full((16, 64), 0.25)
    for party in (old_party, twin):
        party.embed(ids, train=True)
    for _ in range(2):  # the first call finds out, the second goes straight to two calls
        got = old_party.backward_and_embed(ids, grad, ids, train=True)
        want = twin.backward_and_embed(ids, grad, ids, train=True)
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert old_party.info().digest == twin.info().digest
