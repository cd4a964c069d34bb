"""The grpc transport runs the same computation as in-process, and no label crosses the wire."""

from __future__ import annotations

from collections import Counter

import grpc
import pytest

from vfl.coordinator import TrainConfig
from vfl.federation import FederationSpec
from vfl.grpc import tls
from vfl.grpc.proto import passive_pb2
from vfl.simulation import SimulationConfig, run_simulation
from vfl.unlearning import UnlearnConfig

METRICS = ("test_acc", "retain_acc", "forget_acc", "mia", "per_class")
HEALTH_CHECK = "/grpc.health.v1.Health/Check"


def _config(transport: str) -> SimulationConfig:
    return SimulationConfig(
        federation=FederationSpec(dataset="digits", parties=2, seed=3),
        classes=[3],
        method="luv",
        compare_retrain=False,
        transport=transport,
        train=TrainConfig(epochs=2, batch_size=64),
        unlearn=UnlearnConfig(epochs=3),
    )


class Capture(grpc.UnaryUnaryClientInterceptor):
    """Records every request message as it enters the channel (i.e. what is serialized)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, object]] = []

    def intercept_unary_unary(self, continuation, details, request):
        self.sent.append((details.method, request))
        return continuation(details, request)


@pytest.fixture
def capture(monkeypatch) -> Capture:
    recorder = Capture()
    original = tls.TLSConfig.open_channel

    def open_channel(self, target, server_identity, options):
        return grpc.intercept_channel(original(self, target, server_identity, options), recorder)

    monkeypatch.setattr(tls.TLSConfig, "open_channel", open_channel)
    return recorder


@pytest.mark.slow
def test_grpc_equals_inprocess_and_sends_only_contract_messages(capture: Capture) -> None:
    """Tolerance 0: both transports run the same float32 ops and the wire is bit-exact.

    Only with the same thread count (torch splits float sums, BatchNorm's
    among them, differently on one thread than on two): the root conftest
    gives this process and the party processes it starts one thread each.
    """
    local = run_simulation(_config("inprocess"))
    remote = run_simulation(_config("grpc"))
    for phase in ("original", "unlearned"):
        for key in METRICS:
            assert remote[phase][key] == local[phase][key], (phase, key)
    assert remote["original"]["test_acc"] > 0.5  # it really trained
    assert remote["unlearned"]["forget_acc"] < remote["original"]["forget_acc"]

    service = passive_pb2.DESCRIPTOR.services_by_name["PassiveParty"]
    allowed = {f"/vfl.v1.PassiveParty/{m.name}": m.input_type.full_name for m in service.methods}
    batches = Counter(
        tuple(op.WhichOneof("op") for op in request.ops)
        for method, request in capture.sent
        if method == "/vfl.v1.PassiveParty/Call"
    )
    assert {("embed",), ("backward",)} <= set(batches)
    # gradients travel with the next embed: a lone backward only ends a run of steps
    assert batches[("backward", "embed")] > 10 * batches[("backward",)], batches
    for method, request in capture.sent:
        if method == HEALTH_CHECK:
            assert request.ListFields() == []  # an empty probe
            continue
        assert request.DESCRIPTOR.full_name == allowed[method]
