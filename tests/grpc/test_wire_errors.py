"""Bad input over a real mTLS connection: the right status, a clear message, nothing changed.

Every test reads the party's model digest before and after, and checks the
server still answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
import torch

from vfl.grpc import serde
from vfl.grpc.certs import server_name
from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.errors import (
    PartyUnavailableError,
    PeerRejectedError,
    RemoteNotFoundError,
    RemoteProtocolError,
)
from vfl.grpc.proto import passive_pb2 as pb
from vfl.grpc.proto.passive_pb2_grpc import PassivePartyStub
from vfl.grpc.server import grpc_options
from vfl.grpc.tls import TLSConfig
from vfl.party.optim import UpdateConfig

N_IDS = 8
EMBED_DIM = 64


@pytest.fixture
def client(passive_server) -> Iterator[GrpcPassiveClient]:
    c = passive_server.client()
    yield c
    c.close()


class RawStub:
    """Sends hand-built operations in one ``Call``, bypassing the client's serde,
    so malformed messages reach the server."""

    def __init__(self, stub: PassivePartyStub) -> None:
        self._stub = stub

    def Call(self, request: pb.CallRequest, timeout: float) -> pb.CallResponse:
        return self._stub.Call(request, timeout=timeout)

    def Embed(self, request: pb.EmbedRequest, timeout: float) -> pb.CallResponse:
        return self.Call(pb.CallRequest(ops=[pb.Operation(embed=request)]), timeout)

    def Backward(self, request: pb.BackwardRequest, timeout: float) -> pb.CallResponse:
        return self.Call(pb.CallRequest(ops=[pb.Operation(backward=request)]), timeout)


@pytest.fixture
def raw(passive_server) -> Iterator[RawStub]:
    tls = TLSConfig(certs=passive_server.certs, identity="active")
    channel = tls.open_channel(passive_server.target, "passive-0", grpc_options(64 * 2**20))
    yield RawStub(PassivePartyStub(channel))
    channel.close()


@pytest.fixture
def unchanged(client: GrpcPassiveClient) -> Iterator[None]:
    """Assert the party's model digest and version are the same after the test body."""
    before = client.info()
    yield
    after = client.info()  # also proves the server still serves
    assert (after.digest, after.version) == (before.digest, before.version)


def ids_msg(ids) -> pb.Tensor:
    return serde.encode_tensor(np.asarray(ids, dtype=np.int64))


def grad_msg(shape, dtype=np.float32, fill: float = 0.0) -> pb.Tensor:
    arr = np.full(shape, fill, dtype=dtype)
    return pb.Tensor(dtype=arr.dtype.name, shape=arr.shape, data=arr.tobytes())


def expect(code: grpc.StatusCode, match: str, call, *args) -> None:
    with pytest.raises(grpc.RpcError) as info:
        call(*args, timeout=30)
    assert info.value.code() == code, info.value.details()
    assert match in info.value.details()


INFO = pb.CallRequest(ops=[pb.Operation(info=pb.InfoRequest())])


def embed_for_training(client: GrpcPassiveClient) -> None:
    client.embed(np.arange(N_IDS), train=True)


@pytest.mark.parametrize(
    ("request_", "match"),
    [
        (pb.EmbedRequest(ids=grad_msg((N_IDS,))), "must be int64"),
        (pb.EmbedRequest(ids=ids_msg([[1, 2]])), "1-D"),
        (pb.EmbedRequest(ids=ids_msg([3, 3])), "unique"),
        (pb.EmbedRequest(ids=pb.Tensor(dtype="int64", shape=[4], data=b"\0" * 8)), "bytes"),
    ],
)
def test_malformed_embed_is_invalid_argument(raw, unchanged, request_, match) -> None:
    expect(grpc.StatusCode.INVALID_ARGUMENT, match, raw.Embed, request_)


def test_unknown_id_is_not_found(raw, unchanged) -> None:
    request = pb.EmbedRequest(ids=ids_msg([0, 10**9]), train=True)
    expect(grpc.StatusCode.NOT_FOUND, "unknown sample ID", raw.Embed, request)


@pytest.mark.parametrize(
    ("grad", "match"),
    [
        (grad_msg((N_IDS, EMBED_DIM), np.float64), "must be float32"),
        (grad_msg((N_IDS, EMBED_DIM + 1)), "shape"),
        (grad_msg((N_IDS + 1, EMBED_DIM)), "shape"),
        (pb.Tensor(dtype="float32", shape=[0, 2**62], data=b""), "dimension"),  # zero-size, huge
    ],
)
def test_bad_gradient_is_invalid_argument(raw, client, grad, match) -> None:
    embed_for_training(client)
    before = client.info().digest
    request = pb.BackwardRequest(ids=ids_msg(np.arange(N_IDS)), grad=grad)
    expect(grpc.StatusCode.INVALID_ARGUMENT, match, raw.Backward, request)
    assert client.info().digest == before


def test_backward_without_embed_is_failed_precondition(client, unchanged) -> None:
    client.configure(UpdateConfig())  # drops any pending graph
    with pytest.raises(RemoteProtocolError, match="without a preceding embed") as info:
        client.backward(np.arange(N_IDS), torch.zeros(N_IDS, EMBED_DIM))
    assert info.value.code == grpc.StatusCode.FAILED_PRECONDITION


def test_undo_unknown_trial_is_failed_precondition(client, unchanged) -> None:
    with pytest.raises(RemoteProtocolError, match="no open trial") as info:
        client.undo_trial("never-taken")
    assert info.value.code == grpc.StatusCode.FAILED_PRECONDITION


def test_oversize_message_is_resource_exhausted(raw, unchanged) -> None:
    big = pb.Tensor(dtype="float32", shape=[5 * 2**20], data=bytes(20 * 2**20))
    request = pb.BackwardRequest(ids=ids_msg([0]), grad=big)
    expect(grpc.StatusCode.RESOURCE_EXHAUSTED, "larger than max", raw.Backward, request)


@pytest.mark.parametrize("identity", ["passive-1", "admin"])
def test_peer_other_than_active_is_permission_denied(passive_server, unchanged, identity) -> None:
    intruder = passive_server.client(identity)
    with pytest.raises(PeerRejectedError, match="only the active party") as info:
        intruder.embed(np.arange(N_IDS), train=True)
    assert info.value.code == grpc.StatusCode.PERMISSION_DENIED
    intruder.close()


def test_certificate_from_another_ca_fails_the_handshake(
    passive_server, unchanged, foreign_certs: Path
) -> None:
    impostor = passive_server.client("active", foreign_certs)
    with pytest.raises(PartyUnavailableError) as info:
        impostor.info()
    assert info.value.code == grpc.StatusCode.UNAVAILABLE
    impostor.close()


def test_client_without_certificate_fails_the_handshake(passive_server, unchanged) -> None:
    ca = (passive_server.certs / "ca.crt").read_bytes()
    options = [("grpc.ssl_target_name_override", server_name("passive-0"))]
    channel = grpc.secure_channel(
        passive_server.target, grpc.ssl_channel_credentials(ca), options=options
    )
    expect(grpc.StatusCode.UNAVAILABLE, "", RawStub(PassivePartyStub(channel)).Call, INFO)
    channel.close()


def test_plaintext_client_is_refused(passive_server, unchanged) -> None:
    channel = grpc.insecure_channel(passive_server.target)
    expect(grpc.StatusCode.UNAVAILABLE, "", RawStub(PassivePartyStub(channel)).Call, INFO)
    channel.close()


def test_valid_step_changes_the_digest(client) -> None:
    """The control: the digest the other tests compare does move when a step is applied."""
    embed_for_training(client)
    before = client.info().digest
    client.backward(np.arange(N_IDS), torch.ones(N_IDS, EMBED_DIM))
    assert client.info().digest != before


def test_client_maps_unknown_ids_to_a_vfl_error(client, unchanged) -> None:
    with pytest.raises(RemoteNotFoundError, match="unknown sample ID"):
        client.embed(np.array([10**9]), train=False)


def fused(backward: pb.BackwardRequest, embed: pb.EmbedRequest) -> pb.CallRequest:
    """A gradient riding with the next embed: the pair the party checks whole."""
    return pb.CallRequest(ops=[pb.Operation(backward=backward), pb.Operation(embed=embed)])


def fused_msg(grad: pb.Tensor, next_ids) -> pb.CallRequest:
    """A backward for the N_IDS of :func:`embed_for_training`, then an embed of ``next_ids``."""
    backward = pb.BackwardRequest(ids=ids_msg(np.arange(N_IDS)), grad=grad)
    return fused(backward, pb.EmbedRequest(ids=ids_msg(next_ids), train=True))


@pytest.mark.parametrize(
    ("request_", "code", "match"),
    [
        (
            fused_msg(grad_msg((N_IDS, EMBED_DIM + 1)), np.arange(N_IDS)),
            grpc.StatusCode.INVALID_ARGUMENT,
            "shape",
        ),
        (
            fused_msg(grad_msg((N_IDS, EMBED_DIM), fill=1.0), [3, 3]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "unique",
        ),
        (
            fused_msg(grad_msg((N_IDS, EMBED_DIM), fill=1.0), [0, 10**9]),
            grpc.StatusCode.NOT_FOUND,
            "unknown sample ID",
        ),
    ],
)
def test_bad_backward_embed_applies_neither_half(raw, client, request_, code, match) -> None:
    """A bad next embed must not leave the (non-zero) gradient half of the call applied."""
    embed_for_training(client)
    before = client.info().digest
    expect(code, match, raw.Call, request_)
    assert client.info().digest == before


@pytest.mark.parametrize(
    ("grad_ids", "fill", "drop_pending", "match"),
    [
        (np.arange(N_IDS), 1.0, True, "without a preceding embed"),
        (np.arange(N_IDS) + 1, 1.0, False, "differ from the last embed"),
        (np.arange(N_IDS), float("nan"), False, "NaN"),
        (np.arange(N_IDS), 3e38, False, "overflow"),  # finite, but NaN weights one step later
    ],
)
def test_refused_gradient_half_is_failed_precondition(
    raw, client, grad_ids, fill, drop_pending, match
) -> None:
    """The embed half is fine; it must not run when the gradient half is refused."""
    embed_for_training(client)
    if drop_pending:
        client.configure(UpdateConfig())
    before = client.info().digest
    request = fused(
        pb.BackwardRequest(ids=ids_msg(grad_ids), grad=grad_msg((N_IDS, EMBED_DIM), fill=fill)),
        pb.EmbedRequest(ids=ids_msg(np.arange(N_IDS)), train=True),
    )
    expect(grpc.StatusCode.FAILED_PRECONDITION, match, raw.Call, request)
    assert client.info().digest == before


def test_backward_embed_is_backward_then_embed(client) -> None:
    """One call does what the two calls do: the same step, then the same embeddings."""
    ids, grad = np.arange(N_IDS), torch.full((N_IDS, EMBED_DIM), 0.5)
    client.configure(UpdateConfig())
    token = "fused-vs-two-calls"
    client.open_trial(token)
    client.embed(ids, train=True)
    client.backward(ids, grad)
    two_calls = client.embed(ids + N_IDS, train=False)
    stepped = client.info().digest
    client.undo_trial(token)

    client.configure(UpdateConfig())
    client.embed(ids, train=True)
    one_call = client.backward_and_embed(ids, grad, ids + N_IDS, train=False)
    assert client.info().digest == stepped
    torch.testing.assert_close(one_call, two_calls, rtol=0, atol=0)


def test_an_operation_without_a_request_is_invalid_argument(raw, unchanged) -> None:
    expect(
        grpc.StatusCode.INVALID_ARGUMENT, "empty op", raw.Call, pb.CallRequest(ops=[pb.Operation()])
    )


def test_a_refusal_mid_batch_keeps_the_operations_before_it(raw, client) -> None:
    """A batch runs in order, as separate calls would: the trial before the bad embed stays."""
    request = pb.CallRequest(
        ops=[
            pb.Operation(open_trial=pb.TokenRequest(token="kept")),
            pb.Operation(embed=pb.EmbedRequest(ids=ids_msg([10**9]))),
        ]
    )
    expect(grpc.StatusCode.NOT_FOUND, "unknown sample ID", raw.Call, request)
    client.undo_trial("kept")  # the trial is open: undoing it succeeds
