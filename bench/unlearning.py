"""Unlearning quality and cost, method by method (the paper's main table).

For each seed it trains the federation once, then runs every method from the
same snapshot of the original model, so the methods are compared on identical
starting weights in one run. Prints a Markdown table (mean ± std over seeds)
and writes per-run rows to ``--out`` (JSON).

    python bench/unlearning.py --dataset digits --seeds 0 1 2
    python bench/unlearning.py --dataset mnist --data-dir ../shared/data/mnist --seeds 0
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vfl.coordinator import Coordinator, TrainConfig
from vfl.federation import FederationSpec
from vfl.metrics import evaluate
from vfl.seeding import derive_seed
from vfl.simulation import default_epochs
from vfl.transport import open_federation
from vfl.unlearning import UnlearnConfig, validate_classes
from vfl.unlearning.run import unlearn_and_evaluate

METHODS = [
    "retrain",
    "finetune",
    "gradient-ascent",
    "random-label",
    "boundary-shrink",
    "mixup-ascent",
    "luv",
]
COLUMNS = ("retain_acc", "forget_acc", "mia")


@dataclass(frozen=True)
class Trained:
    """A federation trained on every class, and the request to run against it."""

    co: Coordinator
    classes: list[int]
    train: TrainConfig
    seed: int
    seconds: float


@contextmanager
def trained_federation(args: argparse.Namespace, seed: int) -> Iterator[Trained]:
    """Open the federation ``args`` describe and train it once for ``seed``."""
    spec = FederationSpec(
        dataset=args.dataset, data_dir=args.data_dir, parties=args.parties, seed=seed
    )
    data = spec.load()
    classes = validate_classes(args.classes, data.num_classes)  # fail before training
    train = TrainConfig(
        epochs=args.epochs or default_epochs(data.n_train), batch_size=args.batch_size
    )
    with open_federation(args.transport, spec, data) as co:
        start = time.perf_counter()
        co.train(data.train_ids, train, derive_seed(seed, "train-order"))
        yield Trained(co, classes, train, seed, time.perf_counter() - start)


@dataclass(frozen=True)
class Job:
    """One table's request against a trained federation: classes, settings, methods."""

    name: str
    classes: list[int]
    unlearn: UnlearnConfig
    methods: list[str]


def run_jobs(
    args: argparse.Namespace, seed: int, jobs: list[Job]
) -> dict[str, list[dict[str, Any]]]:
    """Train once for ``seed``, then run every job's methods from that same model.

    Rows that do not depend on a job's few-shot settings -- the original model's
    evaluation and retraining -- are computed once per set of classes and shared
    by every job asking for those classes.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    shared: dict[tuple[str, tuple[int, ...]], dict[str, Any]] = {}
    with trained_federation(args, seed) as fed:
        co = fed.co
        for job in jobs:
            classes = validate_classes(job.classes, co.active.num_classes)
            key = ("original", tuple(classes))
            if key not in shared:
                original = evaluate(co, co.active.labels, classes).as_dict()
                shared[key] = {
                    "seed": seed,
                    "method": "original",
                    **original,
                    "seconds": fed.seconds,
                }
            rows = [shared[key]]
            for method in job.methods:
                key = (method, tuple(classes))
                if key in shared:
                    rows.append(shared[key])
                    continue
                with co.trial("original") as original:  # every method starts from one model
                    result = unlearn_and_evaluate(co, method, classes, job.unlearn, fed.train, seed)
                    original.undo()
                rows.append({"seed": seed, "method": method, **result})
                if method == "retrain":  # the one method that ignores the few-shot settings
                    shared[key] = rows[-1]
            out[job.name] = rows
    return out


def run_seed(args: argparse.Namespace, seed: int) -> list[dict[str, Any]]:
    """Every method of ``args.methods`` on ``args.classes``, from one trained model."""
    unlearn = UnlearnConfig(forget_samples=args.forget_samples, recovery_per_class=args.recovery)
    return run_jobs(args, seed, [Job("main", args.classes, unlearn, args.methods)])["main"]


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and std per method; gap = mean |x - retrain| over accuracy and MIA columns."""
    by_seed_retrain = {r["seed"]: r for r in rows if r["method"] == "retrain"}
    out = []
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        stats: dict[str, Any] = {"method": method, "n": len(mine)}
        for col in (*COLUMNS, "seconds"):
            values = [r[col] for r in mine]
            stats[col] = (statistics.fmean(values), statistics.pstdev(values))
        if by_seed_retrain:
            gaps = [
                statistics.fmean(abs(r[c] - by_seed_retrain[r["seed"]][c]) for c in COLUMNS)
                for r in mine
            ]
            stats["gap"] = (statistics.fmean(gaps), statistics.pstdev(gaps))
            retrain_s = statistics.fmean(r["seconds"] for r in by_seed_retrain.values())
            stats["speedup"] = retrain_s / stats["seconds"][0]
        out.append(stats)
    return out


def markdown(summary: list[dict[str, Any]]) -> str:
    def pm(v: tuple[float, float], scale: float = 100, digits: int = 2) -> str:
        return f"{v[0] * scale:.{digits}f} ± {v[1] * scale:.{digits}f}"

    lines = [
        "| method | retained acc % | forgotten acc % | MIA % | gap to retrain "
        "| seconds | speed-up vs retrain |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        gap = pm(s["gap"]) if "gap" in s else "-"
        speed = f"{s['speedup']:.1f}x" if "speedup" in s and s["method"] != "original" else "-"
        lines.append(
            f"| {s['method']} | {pm(s['retain_acc'])} | {pm(s['forget_acc'])} | {pm(s['mia'])} "
            f"| {gap} | {pm(s['seconds'], 1, 3)} | {speed} |"
        )
    return "\n".join(lines)


def parser(doc: str | None) -> argparse.ArgumentParser:
    """The options every unlearning benchmark shares (federation, training, request)."""
    p = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--dataset", default="digits")
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--parties", type=int, default=2)
    p.add_argument("--classes", type=int, nargs="+", default=[3])
    p.add_argument("--methods", nargs="+", default=METHODS)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--forget-samples", type=int, default=UnlearnConfig().forget_samples)
    p.add_argument("--recovery", type=int, default=UnlearnConfig().recovery_per_class)
    p.add_argument("--transport", default="inprocess")
    return p


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    if "retrain" in args.methods:  # retrain first: the gap column needs it
        args.methods = ["retrain", *[m for m in args.methods if m != "retrain"]]
    rows = [row for seed in args.seeds for row in run_seed(args, seed)]
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, indent=1))
    print(markdown(summarise(rows)))


if __name__ == "__main__":
    main()
