"""Training and unlearning time on Flower vs our gRPC transport vs in-process, in one run.

Every transport trains the same federation (same seeds, so the same weights)
for ``--epochs`` epochs and then serves ``--requests`` LUV unlearning requests,
each from the same trained snapshot. Per transport it reports training time
per epoch, time per LUV request (the method's run, without the evaluation
after it), and the messages each passive party received for both: a message
is one batch of party calls on the wire (one RPC on gRPC, one sealed Flower
message, one ``link.call`` in-process), so ``s / message`` is what one
sequential round trip costs. On Flower it also counts the keep-awake
``query.idle`` messages (see ``vfl.flower.client.GridLink``); the transport
``flower-sleepy`` is Flower without them (the SuperNodes sleep 3 s whenever
their queue is empty), for comparison. Prints a Markdown table and writes the
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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vfl.coordinator import Coordinator, TrainConfig
from vfl.data.base import Dataset
from vfl.federation import FederationSpec
from vfl.metrics import evaluate
from vfl.progress import ProgressEvent
from vfl.protocol.client import PartyLink
from vfl.protocol.messages import Request, Response
from vfl.seeding import derive_seed
from vfl.transport import open_federation
from vfl.unlearning import UnlearnConfig, UnlearningContext, create_method

TRANSPORTS = ["inprocess", "grpc", "flower", "flower-sleepy"]
DEFAULT = ["inprocess", "grpc", "flower"]
ORIGINAL = "original"


def available(transport: str) -> bool:
    module = {"grpc": "vfl.grpc.local"}.get(transport, "vfl.flower.local")
    return transport == "inprocess" or importlib.util.find_spec(module) is not None


class CountingLink:
    """Counts the batches a client hands its link (one wire message each, off Flower)."""

    def __init__(self, inner: PartyLink) -> None:
        self.inner = inner
        self.calls = 0

    def call(self, requests: Sequence[Request]) -> list[Response]:
        self.calls += 1
        return self.inner.call(requests)

    def close(self) -> None:
        self.inner.close()


@contextmanager
def federation(transport: str, spec: FederationSpec, data: Dataset) -> Iterator[Coordinator]:
    if transport == "flower-sleepy":
        from vfl.flower.local import local_flower_federation

        with local_flower_federation(spec, data, keep_warm=False) as co:
            yield co
        return
    with open_federation(transport, spec, data) as co:
        if not transport.startswith("flower"):
            for client in co.clients:
                client.link = CountingLink(client.link)
        yield co


def messages(co: Coordinator) -> tuple[float, float]:
    """(party messages, keep-awake messages) sent so far, per passive party."""
    sent = sum(getattr(c, "round_trips", None) or getattr(c.link, "calls", 0) for c in co.clients)
    link = getattr(co.clients[0], "flower", None)
    idle = link._link.idle_messages if link is not None else 0
    return sent / len(co.clients), idle / len(co.clients)


def bench_transport(args: argparse.Namespace, transport: str) -> dict[str, Any]:
    spec = FederationSpec(dataset=args.dataset, parties=args.parties, seed=args.seed)
    data = spec.load()
    train = TrainConfig(epochs=args.epochs, batch_size=args.batch_size)
    epoch_ends: list[float] = []

    def on_progress(event: ProgressEvent) -> None:
        if event.metrics:  # one event with the mean loss closes each epoch
            epoch_ends.append(time.perf_counter())

    row: dict[str, Any] = {"transport": transport, "epochs": args.epochs}
    start = time.perf_counter()
    with federation(transport, spec, data) as co:
        row["startup_s"] = time.perf_counter() - start
        before = messages(co)
        start = time.perf_counter()
        co.train(data.train_ids, train, derive_seed(args.seed, "train-order"), on_progress)
        epochs = [b - a for a, b in zip([start, *epoch_ends], epoch_ends, strict=False)]
        after = messages(co)
        row["epoch_s"] = statistics.fmean(epochs)
        row["epoch_messages"] = (after[0] - before[0]) / args.epochs
        row["epoch_idle"] = (after[1] - before[1]) / args.epochs
        row["original_test_acc"] = evaluate(co, co.active.labels, args.classes).test_acc
        seconds, sent, idle = [], [], []
        for _ in range(args.requests):
            with co.trial(ORIGINAL) as original:  # every request starts from one model
                ctx = UnlearningContext(co, args.classes, UnlearnConfig(), train, args.seed)
                before = messages(co)
                start = time.perf_counter()
                create_method("luv").run(ctx)
                seconds.append(time.perf_counter() - start)
                after = messages(co)
                sent.append(after[0] - before[0])
                idle.append(after[1] - before[1])
                result = evaluate(co, co.active.labels, args.classes)
                original.undo()
        row["request_s"] = statistics.fmean(seconds)
        row["request_messages"] = statistics.fmean(sent)
        row["request_idle"] = statistics.fmean(idle)
        row["unlearned_forget_acc"] = result.forget_acc
        row["unlearned_retain_acc"] = result.retain_acc
    return row


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| transport | startup s | s / epoch | messages / epoch | s / message (train) "
        "| s / LUV request | messages / request | s / message (LUV) "
        "| idle messages (epoch / request) | test acc | retain acc after | forget acc after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        idle = (
            f"{r['epoch_idle']:.0f} / {r['request_idle']:.0f}"
            if r["transport"].startswith("flower")
            else "-"
        )
        lines.append(
            f"| {r['transport']} | {r['startup_s']:.1f} | {r['epoch_s']:.2f} "
            f"| {r['epoch_messages']:.0f} | {r['epoch_s'] / r['epoch_messages']:.3f} "
            f"| {r['request_s']:.2f} | {r['request_messages']:.0f} "
            f"| {r['request_s'] / r['request_messages']:.3f} | {idle} "
            f"| {r['original_test_acc']:.3f} | {r['unlearned_retain_acc']:.3f} "
            f"| {r['unlearned_forget_acc']:.3f} |"
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
    parser.add_argument("--transports", nargs="+", default=DEFAULT, choices=TRANSPORTS)
    parser.add_argument("--out", type=Path, default=Path("bench/results/flower.json"))
    args = parser.parse_args()
    rows = []
    for transport in args.transports:
        if not available(transport):
            print(f"skipping {transport}: not installed")
            continue
        rows.append(bench_transport(args, transport))
        print(json.dumps(rows[-1]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"args": vars(args) | {"out": str(args.out)}, "rows": rows}, indent=2)
    )
    print(markdown(rows))


if __name__ == "__main__":
    main()
