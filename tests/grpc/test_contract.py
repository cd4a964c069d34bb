"""The wire contract: nothing sent to a passive party can carry a label, and stubs are fresh."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from vfl.grpc.proto import passive_pb2
from vfl.protocol.messages import REQUESTS, RESPONSES

ROOT = Path(__file__).resolve().parents[2]

# Every field of every message a passive party can receive, transitively.
# Adding a field to the passive contract must be a reviewed change to this list.
ALLOWED_FIELDS = {
    "vfl.v1.CallRequest": {"ops"},
    "vfl.v1.Operation": set(REQUESTS),  # one field per operation; their messages follow
    "vfl.v1.InfoRequest": set(),
    "vfl.v1.EmbedRequest": {"ids", "train"},
    "vfl.v1.BackwardRequest": {"ids", "grad"},
    "vfl.v1.ConfigureRequest": {"update"},
    "vfl.v1.UpdateConfig": {"optimizer", "lr", "momentum", "weight_decay", "freeze_norm_stats"},
    "vfl.v1.ReinitializeRequest": {"seed"},
    # request/trial tokens; `fence`: the coordinator's key fingerprint (no data)
    "vfl.v1.TokenRequest": {"token", "fence"},
    # alignment: a session token, set sizes, chunk numbers, PSI chunks (blinded group
    # elements / tags of IDs) and sorted ID lists; nothing is computed from a label
    "vfl.v1.AlignBeginRequest": {"session", "peer_size"},
    "vfl.v1.AlignSetupChunkRequest": {"session", "index"},
    "vfl.v1.AlignChunkRequest": {"session", "data"},
    "vfl.v1.AlignRevealRequest": {"session", "data", "last"},
    "vfl.v1.SetIndexRequest": {"session", "train", "test", "fence", "score"},
    "vfl.v1.RollbackRequest": {"version", "fence"},  # `vfl repair`: a version number only
    "vfl.v1.Tensor": {"dtype", "shape", "data"},
}
FORBIDDEN = re.compile(r"label|class|loss|target|objective|y_|^y$", re.IGNORECASE)


def _reachable(message: Descriptor, seen: dict[str, Descriptor]) -> None:
    if message.full_name in seen:
        return
    seen[message.full_name] = message
    for field in message.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            _reachable(field.message_type, seen)


def test_no_message_to_a_passive_party_can_carry_a_label_class_or_loss() -> None:
    service = passive_pb2.DESCRIPTOR.services_by_name["PassiveParty"]
    seen: dict[str, Descriptor] = {}
    for method in service.methods:
        _reachable(method.input_type, seen)

    fields = {name: {f.name for f in msg.fields} for name, msg in seen.items()}
    assert fields == ALLOWED_FIELDS
    for name, msg in seen.items():
        assert not FORBIDDEN.search(msg.name), name
        for field in msg.fields:
            assert not FORBIDDEN.search(field.name), f"{name}.{field.name}"
            # only our own messages: no Any/Struct/map that could smuggle free-form data
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                assert field.message_type.full_name.startswith("vfl.v1."), field.full_name


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_protos"] = module
    spec.loader.exec_module(module)
    return module


def test_committed_stubs_match_the_protos(tmp_path: Path) -> None:
    gen = _load_generator()
    fresh = {p.name: p.read_text() for p in gen.generate(tmp_path)}
    committed = ROOT / "vfl" / "grpc" / "proto"
    assert fresh, "no stubs generated"
    for name, text in fresh.items():
        assert (committed / name).exists(), f"{name} missing: run python scripts/gen_protos.py"
        assert (committed / name).read_text() == text, (
            f"vfl/grpc/proto/{name} is stale: run python scripts/gen_protos.py"
        )


def test_the_wire_has_exactly_one_field_per_protocol_message() -> None:
    """The generic codec maps ``op`` names to oneof fields: neither side may lack one."""
    ops = passive_pb2.Operation.DESCRIPTOR.oneofs_by_name["op"]
    assert {f.name for f in ops.fields} == set(REQUESTS)
    results = passive_pb2.Result.DESCRIPTOR.oneofs_by_name["result"]
    assert {f.name for f in results.fields} == set(RESPONSES)
