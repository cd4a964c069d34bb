"""``python -m vfl.flower.worker``: one passive party next to its SuperNode.

Run it beside ``flower-supernode --isolation process --port P``; it holds the
party's columns, bottom model and keys in memory and answers every message of
the vfl ClientApp that reaches that SuperNode.

    python -m vfl.flower.worker --runtime-api-address 127.0.0.1:P \\
        --spec federation.json --party-id p0 --key keys/p0.key --active-key keys/active.pub \\
        [--data party-0.csv --id-column id --categorical region --score-data new.csv]

With ``--data`` the party reads that file and nothing else (the spec's dataset is
never loaded) and waits, unaligned, for the ServerApp's private set intersection.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from flwr.app import Message

from vfl.federation import FederationSpec, PassiveData, build_passive_party
from vfl.flower.client_app import Observer, PassiveEndpoint, app, serve
from vfl.flower.crypto import load_private_key, load_public_key
from vfl.flower.protocol import BOX
from vfl.flower.runtime import run_worker
from vfl.flower.wire import Item

__all__ = ["main", "message_recorder"]


def message_recorder(path: Path) -> Observer:
    """Append what the ClientApp receives, one JSON line per message (for audits and tests)."""
    lock = threading.Lock()

    def record(msg: Message, items: list[Item] | None) -> None:
        content = msg.content
        entry: dict[str, Any] = {
            "message_type": msg.metadata.message_type,
            "records": {
                name: {k: type(v).__name__ for k, v in rec.items()}
                for name, rec in content.config_records.items()
            },
            "array_records": sorted(content.array_records.keys()),
            "metric_records": sorted(content.metric_records.keys()),
            "ops": None
            if items is None
            else [{"op": i.op, "args": sorted(i.args), "arrays": sorted(i.arrays)} for i in items],
        }
        box = content.config_records.get(BOX)
        if box is not None and isinstance(box.get("ct"), bytes):
            entry["ct"] = base64.b64encode(box["ct"]).decode()
        with lock, path.open("a") as f:
            f.write(json.dumps(entry) + "\n")

    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runtime-api-address", required=True, help="the SuperNode's --host:--port"
    )
    parser.add_argument("--spec", type=Path, required=True, help="FederationSpec as JSON")
    parser.add_argument("--party-id", required=True)
    parser.add_argument("--key", type=Path, required=True, help="this party's X25519 private key")
    parser.add_argument("--active-key", type=Path, required=True, help="pinned active party key")
    parser.add_argument("--record", type=Path, help="append every received message here (JSONL)")
    parser.add_argument("--data", type=Path, help="this party's own CSV (else: the spec's dataset)")
    parser.add_argument("--id-column", default="id")
    parser.add_argument("--categorical", action="append", default=[], help="repeat per column")
    parser.add_argument("--score-data", type=Path, help="new rows to score, same columns")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    spec = FederationSpec.model_validate_json(args.spec.read_text())
    own = None if args.data is None else PassiveData(
        path=args.data, id_column=args.id_column, categorical=tuple(args.categorical),
        score=args.score_data,
    )  # fmt: skip
    serve(
        PassiveEndpoint(
            party=build_passive_party(spec, args.party_id, data=own),
            private=load_private_key(args.key),
            active_key=load_public_key(args.active_key),
            observer=message_recorder(args.record) if args.record else None,
        )
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_worker(args.runtime_api_address, app, stop)


if __name__ == "__main__":
    main()
