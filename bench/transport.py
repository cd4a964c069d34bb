"""gRPC transport vs in-process: epoch time, per-call latency, scaling with K.

    python bench/transport.py --data-dir ../shared/data/mnist --json bench/results/transport.json

1. Training time per epoch, K=2, MNIST CNN, batch 128, mutual TLS on loopback
   (ratio = grpc / inprocess).
2. Round-trip latency of one embed(train) + backward of a 128x64 float32 batch
   against one party (digits MLP, so the model's compute is small next to the wire),
   as training sends it (one ``backward_and_embed`` call: step t's gradient with
   step t+1's embed) and as two separate calls.
3. Mean time per training step for K = 2, 4, 8: one call per party (the previous
   step's gradients with this step's embed) and the top-model step; the
   coordinator calls the parties concurrently.

Both federations are open at once and measured in alternation (in-process,
grpc, in-process, ...), so a noisy shared machine slows both alike; medians are
reported, with the load average before and after each part (other work on the
machine shows up in p99 first). All processes share this machine's cores.
OpenMP workers sleep when idle (``OMP_WAIT_POLICY=PASSIVE``, as the grpc
launcher sets for its children) in every process, so they do not spin against
one another; each grpc party process gets cores/K torch threads.

The run ends with one side-by-side table (in-process | gRPC) of all three
parts; ``--parts latency`` re-measures one part alone.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads OpenMP

import argparse
import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import torch

from vfl.coordinator import Coordinator, TrainConfig, cross_entropy_objective
from vfl.data.base import Dataset
from vfl.federation import FederationSpec
from vfl.transport import open_federation

TRANSPORTS = ("inprocess", "grpc")
BATCH = 128
PARTS = ("epoch", "latency", "scaling")


Measure = Callable[[Coordinator], list[float]]


def alternate(
    spec: FederationSpec, data: Dataset, rounds: int, measures: dict[str, Measure]
) -> dict[str, dict[str, list[float]]]:
    """Open both transports, then run each of ``measures`` on each in turn, ``rounds`` times.

    Returns ``samples[measure][transport]``.
    """
    with ExitStack() as stack:
        feds = {t: stack.enter_context(open_federation(t, spec, data)) for t in TRANSPORTS}
        samples = {m: {t: [] for t in TRANSPORTS} for m in measures}
        for _ in range(rounds):
            for transport, co in feds.items():
                for name, measure in measures.items():
                    samples[name][transport] += measure(co)
        return samples


def epoch_seconds(co: Coordinator, ids: np.ndarray) -> list[float]:
    start = time.perf_counter()
    co.train(ids, TrainConfig(epochs=1, batch_size=BATCH), 1)
    return [time.perf_counter() - start]


def round_trips_ms(co: Coordinator, data: Dataset, iters: int) -> list[float]:
    """Embed then backward, as two calls."""
    party, ids = co.clients[0], data.train_ids[:BATCH]
    grad = torch.zeros(BATCH, party.info().embed_dim)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        party.embed(ids, train=True)
        party.backward(ids, grad)
        times.append((time.perf_counter() - start) * 1000)
    return times


def fused_round_trips_ms(co: Coordinator, data: Dataset, iters: int) -> list[float]:
    """A backward and the next embed in one call: what a training step sends a party."""
    party, ids = co.clients[0], data.train_ids[:BATCH]
    grad = torch.zeros(BATCH, party.info().embed_dim)
    party.embed(ids, train=True)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        party.backward_and_embed(ids, grad, ids, train=True)
        times.append((time.perf_counter() - start) * 1000)
    party.backward(ids, grad)  # the last embed's graph is consumed, as after a real step
    return times


def steps_ms(co: Coordinator, data: Dataset, batches: int, rng: np.random.Generator) -> list[float]:
    times = []
    for _ in range(batches):
        ids = np.sort(rng.choice(data.train_ids, BATCH, replace=False))
        objective = cross_entropy_objective(co.active.labels_of(ids))
        start = time.perf_counter()
        co.step(ids, objective)
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(samples: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {
        t: {
            "median": float(np.median(v)),
            "p50": float(np.percentile(v, 50)),
            "p99": float(np.percentile(v, 99)),
            "n": len(v),
        }
        for t, v in samples.items()
    }


def load() -> float:
    return round(os.getloadavg()[0], 2)


def measured(results: dict, key: str, run: Callable[[], object]) -> object:
    """``run()`` stored under ``key``, with the 1-minute load average around it."""
    before = load()
    results[key] = run()
    results.setdefault("load_average", {})[key] = [before, load()]
    return results[key]


def table(results: dict) -> str:
    """The run's numbers side by side, as a markdown table."""
    rows = [
        "| measurement | in-process | gRPC + mTLS | gRPC / in-process |",
        "|---|---:|---:|---:|",
    ]

    def row(name: str, stats: dict, key: str, unit: str) -> None:
        a, b = stats["inprocess"][key], stats["grpc"][key]
        rows.append(f"| {name} | {a:.2f} {unit} | {b:.2f} {unit} | {b / a:.2f}x |")

    if "epoch_seconds" in results:
        row(f"train epoch, K=2, MNIST CNN, batch {BATCH}", results["epoch_seconds"], "median", "s")
    for calls, stats in results.get("latency", {}).items():
        for key in ("p50", "p99"):
            row(f"embed + backward 128x64, {calls.replace('_', ' ')}, {key}", stats, key, "ms")
    for k, stats in results.get("step_ms", {}).items():
        row(f"training step, K={k} (median)", stats, "median", "ms")
    targets = "targets: epoch ratio <= 1.25x; gRPC round trip (one call, as training sends it)"
    return "\n".join([*rows, "", f"{targets} p50 <= 2 ms"])


def epoch_part(args: argparse.Namespace, mnist: FederationSpec, data: Dataset | None) -> dict:
    assert data is not None
    ids = data.train_ids[: args.train_samples]
    epochs = alternate(mnist, data, args.epochs, {"epoch": lambda co: epoch_seconds(co, ids)})
    return summary(epochs["epoch"])


def latency_part(args: argparse.Namespace) -> dict:
    """``{"one_call": summary, "two_calls": summary}``, measured in alternation."""
    digits = FederationSpec(dataset="digits", parties=1)
    small = digits.load()
    n = args.latency_iters
    trips = alternate(
        digits,
        small,
        3,
        {
            "one_call": lambda co: fused_round_trips_ms(co, small, n),
            "two_calls": lambda co: round_trips_ms(co, small, n),
        },
    )
    return {name: summary(samples) for name, samples in trips.items()}


def scaling_part(args: argparse.Namespace, mnist: FederationSpec, data: Dataset | None) -> dict:
    assert data is not None
    out, rng = {}, np.random.default_rng(0)
    for k in (int(x) for x in args.ks.split(",")):
        spec = mnist.model_copy(update={"parties": k})
        measure = {"step": lambda co: steps_ms(co, data, args.scaling_batches, rng)}
        out[k] = summary(alternate(spec, data, 3, measure)["step"])
        print(f"K={k} ms per step: {out[k]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="MNIST IDX folder")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per transport")
    parser.add_argument("--latency-iters", type=int, default=100, help="per round, 3 rounds")
    parser.add_argument("--scaling-batches", type=int, default=20, help="per round, 3 rounds")
    parser.add_argument("--ks", default="2,4,8")
    parser.add_argument("--parts", default=",".join(PARTS), help="subset of " + ",".join(PARTS))
    parser.add_argument("--train-samples", type=int, default=None, help="smoke runs only")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    parts = set(args.parts.split(","))

    mnist = FederationSpec(dataset="mnist", data_dir=args.data_dir, parties=2)
    data = mnist.load() if parts & {"epoch", "scaling"} else None
    results: dict = {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    if "epoch" in parts:
        epochs = measured(results, "epoch_seconds", lambda: epoch_part(args, mnist, data))
        results["epoch_ratio"] = epochs["grpc"]["median"] / epochs["inprocess"]["median"]
        print(f"epoch s (K=2, MNIST CNN): {epochs}\n  ratio {results['epoch_ratio']:.3f}")
    if "latency" in parts:
        trips = measured(results, "latency", lambda: latency_part(args))
        print(f"embed+backward 128x64 round trip ms: {trips}")
    if "scaling" in parts:
        measured(results, "step_ms", lambda: scaling_part(args, mnist, data))

    print(f"\n{table(results)}\n")
    print(f"load average (1 min) before/after each part: {results['load_average']}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
