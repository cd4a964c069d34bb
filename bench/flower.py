"""Training and unlearning time on Flower vs our gRPC transport vs in-process, in one run.

Every transport trains the same federation (same seeds, so the same weights)
for ``--epochs`` epochs and then serves ``--requests`` LUV unlearning requests,
each from the same trained snapshot. Prints a Markdown table and writes the
rows to ``--out`` (JSON). Flower needs the ``vfl[flower]`` extra; gRPC is
skipped when ``vfl.grpc`` is not installed.

    python bench/flower.py --dataset digits --epochs 1 --batch-size 64 --requests 1
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import time
from pathlib import Path
from typing import Any

from vfl.coordinator import Coordinator, TrainConfig
from vfl.federation import FederationSpec
from vfl.metrics import evaluate
from vfl.progress import ProgressEvent
from vfl.seeding import derive_seed
from vfl.transport import open_federation
from vfl.unlearning import UnlearnConfig
from vfl.unlearning.run import unlearn_and_evaluate

TRANSPORTS = ["inprocess", "grpc", "flower"]
ORIGINAL = "original"


def available(transport: str) -> bool:
    module = {"grpc": "vfl.grpc.local", "flower": "vfl.flower.local"}.get(transport)
    return module is None or importlib.util.find_spec(module) is not None


def round_trips(co: Coordinator) -> int:
    """Flower messages sent so far, summed over parties (0 on other transports)."""
    return sum(getattr(c, "round_trips", 0) for c in co.clients)


def bench_transport(args: argparse.Namespace, transport: str) -> dict[str, Any]:
    spec = FederationSpec(dataset=args.dataset, parties=args.parties, seed=args.seed)
    data = spec.load()
    train = TrainConfig(epochs=args.epochs, batch_size=args.batch_size)
    epoch_ends: list[float] = []

    def on_progress(event: ProgressEvent) -> None:
        if event.metrics:  # one event with the mean loss closes each epoch
            epoch_ends.append(time.perf_counter())

    row: dict[str, Any] = {"transport": transport}
    start = time.perf_counter()
    with open_federation(transport, spec, data) as co:
        row["startup_s"] = time.perf_counter() - start
        trips = round_trips(co)
        start = time.perf_counter()
        co.train(data.train_ids, train, derive_seed(args.seed, "train-order"), on_progress)
        epochs = [b - a for a, b in zip([start, *epoch_ends], epoch_ends, strict=False)]
        row["epoch_s"] = statistics.fmean(epochs)
        row["train_round_trips_per_party"] = (round_trips(co) - trips) / spec.parties
        row["original_test_acc"] = evaluate(co, co.active.labels, args.classes).test_acc
        requests, trips = [], round_trips(co)
        for _ in range(args.requests):
            with co.trial(ORIGINAL) as original:  # every request starts from one model
                result = unlearn_and_evaluate(
                    co, "luv", args.classes, UnlearnConfig(), train, args.seed
                )
                original.undo()
            requests.append(result)
        row["unlearn_s"] = statistics.fmean(r["seconds"] for r in requests)
        row["unlearn_round_trips_per_party"] = (round_trips(co) - trips) / spec.parties
        row["unlearned_forget_acc"] = requests[-1]["forget_acc"]
        row["unlearned_retain_acc"] = requests[-1]["retain_acc"]
    return row


def markdown(rows: list[dict[str, Any]]) -> str:
    base = {r["transport"]: r for r in rows}.get("inprocess")
    lines = [
        "| transport | startup s | s / epoch | s / unlearning request | x in-process "
        "(epoch / request) | messages per party (epoch / request) | test acc | forget acc |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = (
            f"{r['epoch_s'] / base['epoch_s']:.0f} / {r['unlearn_s'] / base['unlearn_s']:.0f}"
            if base
            else "-"
        )
        trips = (
            f"{r['train_round_trips_per_party'] / max(1, r['epochs']):.0f} / "
            f"{r['unlearn_round_trips_per_party']:.0f}"
            if r["transport"] == "flower"
            else "-"
        )
        lines.append(
            f"| {r['transport']} | {r['startup_s']:.1f} | {r['epoch_s']:.2f} | "
            f"{r['unlearn_s']:.2f} | {ratio} | {trips} | {r['original_test_acc']:.3f} | "
            f"{r['unlearned_forget_acc']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--parties", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--requests", type=int, default=1)
    parser.add_argument("--classes", type=int, nargs="+", default=[3])
    parser.add_argument("--transports", nargs="+", default=TRANSPORTS, choices=TRANSPORTS)
    parser.add_argument("--out", type=Path, default=Path("bench/results/flower.json"))
    args = parser.parse_args()
    rows = []
    for transport in args.transports:
        if not available(transport):
            print(f"skipping {transport}: not installed")
            continue
        rows.append({**bench_transport(args, transport), "epochs": args.epochs})
        print(json.dumps(rows[-1]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"args": vars(args) | {"out": str(args.out)}, "rows": rows}, indent=2)
    )
    print(markdown(rows))


if __name__ == "__main__":
    main()
