"""Protocol messages on the wire: exact round trips, and every malformed message rejected."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vfl.grpc import serde
from vfl.grpc.errors import WireFormatError
from vfl.grpc.proto import passive_pb2 as pb
from vfl.party.optim import UpdateConfig
from vfl.protocol import messages as m


@pytest.mark.parametrize(
    "value",
    [
        torch.randn(128, 64),
        torch.tensor([[float("inf"), -0.0, 1e-38]]),
        np.arange(10, dtype=np.int64)[::2],  # non-contiguous
        np.zeros((0, 4), np.float32),
    ],
)
def test_round_trip_is_bit_exact(value) -> None:
    arr = value.numpy() if isinstance(value, torch.Tensor) else value
    msg = pb.Tensor.FromString(serde.encode_tensor(value).SerializeToString())
    back = serde.decode_tensor(msg, dtype=arr.dtype.name)
    assert back.dtype == arr.dtype and back.shape == arr.shape
    assert back.tobytes() == np.ascontiguousarray(arr).tobytes()
    assert back.flags.writeable


def test_bytes_are_little_endian() -> None:
    msg = serde.encode_tensor(np.array([1], dtype=">i8"))  # big-endian input
    assert msg.data == (1).to_bytes(8, "little")


@pytest.mark.parametrize(
    ("msg", "match"),
    [
        (pb.Tensor(dtype="float64", shape=[1], data=b"\0" * 8), "must be float32"),
        (pb.Tensor(dtype="float32", shape=[2, 2], data=b"\0" * 12), "needs 16 bytes"),
        (pb.Tensor(dtype="float32", shape=[4], data=b"\0" * 16), "2 dimensions"),
        (pb.Tensor(dtype="float32", shape=[-1, 4], data=b""), "negative"),
        (pb.Tensor(dtype="float32", shape=[1 << 20, 1 << 10], data=b""), "limit"),
    ],
)
def test_malformed_tensors_are_rejected(msg: pb.Tensor, match: str) -> None:
    with pytest.raises(WireFormatError, match=match):
        serde.decode_call(backward(np.arange(1), msg))


@pytest.mark.parametrize(
    ("ids", "match"),
    [([1, 1], "unique"), ([], "non-empty")],
)
def test_bad_ids_are_rejected(ids: list[int], match: str) -> None:
    with pytest.raises(WireFormatError, match=match):
        serde.decode_call(embed_call(serde.encode_tensor(np.asarray(ids, dtype=np.int64))))


def test_unsupported_dtype_cannot_be_sent() -> None:
    with pytest.raises(WireFormatError, match="cannot send dtype"):
        serde.encode_tensor(np.zeros(2, np.float16))


def test_update_config_round_trip_and_validation() -> None:
    cfg = UpdateConfig(optimizer="sgd", lr=0.05, momentum=0.5, freeze_norm_stats=True)
    wire = pb.CallRequest.FromString(serde.encode_call([m.Configure(cfg)]).SerializeToString())
    assert serde.decode_call(wire) == [m.Configure(cfg)]
    bad = pb.Operation(configure=pb.ConfigureRequest(update=pb.UpdateConfig(optimizer="adam")))
    with pytest.raises(WireFormatError, match="lr"):
        serde.decode_call(pb.CallRequest(ops=[bad]))


@pytest.mark.parametrize(
    "request_", [m.Info(), m.OpenTrial("t"), m.Begin("r"), m.Reinitialize(7), m.Rollback(2)]
)
def test_every_request_round_trips(request_: m.Request) -> None:
    wire = pb.CallRequest.FromString(serde.encode_call([request_]).SerializeToString())
    assert serde.decode_call(wire) == [request_]


def test_responses_round_trip_bit_exact() -> None:
    emb = torch.randn(5, 3)
    sent = [m.Done(), m.Embeddings(emb), m.Version(4), m.Prepared(4, "ab" * 32)]
    back = serde.decode_results(
        pb.CallResponse.FromString(serde.encode_results(sent).SerializeToString())
    )
    assert back[0] == m.Done() and back[2:] == sent[2:]
    assert back[1].embeddings.numpy().tobytes() == emb.numpy().tobytes()


def backward(ids: np.ndarray, grad: pb.Tensor) -> pb.CallRequest:
    op = pb.Operation(backward=pb.BackwardRequest(ids=serde.encode_tensor(ids), grad=grad))
    return pb.CallRequest(ops=[op])


def embed_call(ids: pb.Tensor) -> pb.CallRequest:
    return pb.CallRequest(ops=[pb.Operation(embed=pb.EmbedRequest(ids=ids))])
