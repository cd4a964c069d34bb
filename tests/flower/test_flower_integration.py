"""The real Flower deployment on loopback: SuperLink, SuperNodes, workers, `flwr run`.

Trains on digits, unlearns a class with LUV, checks forgetting, and reads what
each ClientApp received to check it was ciphertext carrying no label, class
or loss.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from vfl.coordinator import TrainConfig
from vfl.errors import ProtocolError
from vfl.federation import FederationSpec
from vfl.flower.wire import MAGIC, decode_items
from vfl.party.optim import UpdateConfig
from vfl.protocol.messages import REQUESTS
from vfl.simulation import SimulationConfig, run_simulation

pytestmark = pytest.mark.slow

ALLOWED_OPS = set(REQUESTS)  # the party protocol's requests, nothing else
FORBIDDEN = ("label", "class", "loss", "target", "y")
# A plaintext payload begins with the magic, the header length and the JSON
# header. Searching ciphertext for the 4-byte magic alone fails by chance: the
# ~5 MB a run receives holds any fixed 4 bytes with probability ~0.1 %, and a CI
# run hit it. These needles are 16+ bytes long, so chance never finds them.
PLAINTEXT_FRAME = re.compile(re.escape(MAGIC) + rb'.{4}\[\{"op":"', re.DOTALL)


# Big batches keep the number of Flower round trips (seconds each) small.
CONFIG = SimulationConfig(
    federation=FederationSpec(dataset="digits", parties=2),
    classes=[3],
    method="luv",
    compare_retrain=False,
    transport="flower",
    train=TrainConfig(epochs=3, batch_size=450, update=UpdateConfig(lr=0.01)),
)


@pytest.fixture(scope="module")
def flower_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    record_dir = tmp_path_factory.mktemp("received")
    mp = pytest.MonkeyPatch()
    mp.setenv("VFL_FLOWER_RECORD_DIR", str(record_dir))
    try:
        report = run_simulation(CONFIG)
    finally:
        mp.undo()
    return report, record_dir


def test_every_flower_process_is_gone_afterwards(
    flower_run: tuple[dict, Path], live_children: Callable[[], dict[int, str]]
) -> None:
    assert live_children() == {}


def test_flower_trains_and_luv_forgets(flower_run: tuple[dict, Path]) -> None:
    report, _ = flower_run
    original, unlearned = report["original"], report["unlearned"]
    assert report["transport"] == "flower"
    assert original["forget_acc"] > 0.8, "the federation should have learned class 3 first"
    assert unlearned["forget_acc"] <= 0.05
    assert unlearned["retain_acc"] >= original["retain_acc"] - 0.05


def test_flower_computes_exactly_what_inprocess_computes(flower_run: tuple[dict, Path]) -> None:
    report, _ = flower_run
    local = run_simulation(CONFIG.model_copy(update={"transport": "inprocess"}))
    for phase in ("original", "unlearned"):
        for metric in ("test_acc", "retain_acc", "forget_acc", "per_class"):
            assert report[phase][metric] == pytest.approx(local[phase][metric], abs=1e-6)


def test_clientapps_received_only_ciphertext_without_labels(flower_run: tuple[dict, Path]) -> None:
    _, record_dir = flower_run
    files = sorted(record_dir.glob("*.jsonl"))
    assert [f.stem for f in files] == ["passive-0", "passive-1"]
    for path in files:
        entries = [json.loads(line) for line in path.read_text().splitlines()]
        idle = [e for e in entries if e["message_type"] == "query.idle"]
        entries = [e for e in entries if e["message_type"] != "query.idle"]
        hello, boxes = entries[0], entries[1:]
        assert hello["message_type"] == "query.hello"
        assert hello["records"] == {"hello": {"nonce": "bytes"}}
        assert len(boxes) > 10
        # keep-awake messages came (at least one behind every request) and held nothing
        assert len(idle) >= len(boxes)
        for entry in idle:
            assert entry["records"] == {"idle": {"n": "int", "hold": "float"}}
            assert entry["array_records"] == [] and entry["metric_records"] == []
            assert entry["ops"] is None and "ct" not in entry
        ops_seen = set()
        for entry in boxes:
            assert entry["message_type"] in {"query.vfl", "train.vfl"}
            assert entry["records"] == {"box": {"seq": "int", "ct": "bytes"}}
            assert entry["array_records"] == [] and entry["metric_records"] == []
            ct = base64.b64decode(entry["ct"])
            assert not PLAINTEXT_FRAME.search(ct)
            with pytest.raises(ProtocolError):
                decode_items(ct)
            for op in entry["ops"]:
                ops_seen.add(op["op"])
                assert f'{{"op":"{op["op"]}","args":'.encode() not in ct
                assert op["op"] in ALLOWED_OPS
                for key in op["args"] + op["arrays"]:
                    assert not any(word in key.lower() for word in FORBIDDEN), key
        assert {"embed", "backward", "configure", "open_trial"} <= ops_seen
