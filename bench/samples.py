"""Sample-level label unlearning against retraining without the samples.

For each dataset and seed: train the federation once, draw ``--fraction`` of the
training samples at random (seeded), and run every method from that same trained
model -- ``retrain`` (the target: fresh models trained without the samples),
``luv-samples``, ``neggrad-plus``, ``random-label-samples``, ``finetune``. Each
row reports test, retained (training) and forget-set accuracy, the entropy MIA
on the forget set, seconds, and the gaps to retraining in points. A method meets
the issue's targets when retained and test accuracy are within 0.5 point of
retraining's, forget accuracy within 2 points, and it is at least 50x faster.
U-LiRA for the same draws (shadow federations): ``bench/eval.py --fraction 0.01``.

    python bench/samples.py --datasets digits --seeds 0 1 2 --json bench/results/samples.json
    python bench/samples.py --datasets mnist --data-dir ../shared/data/mnist --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

METHODS = ("retrain", "luv-samples", "neggrad-plus", "random-label-samples", "finetune")
ROWS = ("original", *METHODS)
TARGETS = {"retain": 0.5, "test": 0.5, "forget": 2.0, "speedup": 50.0}


def run(
    dataset: str, data_dir: Path | None, seed: int, fraction: float, options: dict[str, Any]
) -> list[dict[str, Any]]:
    """One trained federation, every method from it; a row per method."""
    import numpy as np

    from vfl.coordinator import TrainConfig
    from vfl.federation import FederationSpec
    from vfl.metrics import evaluate_samples
    from vfl.seeding import derive_seed
    from vfl.simulation import FORGET_RANDOM_SALT, default_epochs
    from vfl.transport import open_federation
    from vfl.unlearning import UnlearnConfig, get_method
    from vfl.unlearning import run as runner
    from vfl.unlearning.run import phase_result

    spec = FederationSpec(dataset=dataset, data_dir=data_dir, seed=seed)
    data = spec.load()
    train = TrainConfig(epochs=default_epochs(data.n_train))
    rows = []
    with open_federation("inprocess", spec, data) as co:
        start = time.perf_counter()
        co.train(data.train_ids, train, derive_seed(seed, "train-order"))
        train_seconds = time.perf_counter() - start
        labels = co.active.labels
        n = max(2, round(fraction * labels.train_ids.size))
        rng = np.random.default_rng([seed, FORGET_RANDOM_SALT])  # as --forget-random
        forget = np.sort(rng.choice(labels.train_ids, n, replace=False))
        original = phase_result(evaluate_samples(co, labels, forget), train_seconds)
        rows.append({"dataset": dataset, "seed": seed, "method": "original", "samples": n,
                     "train_seconds": train_seconds, **original})  # fmt: skip
        for method in METHODS:
            with co.trial("original") as trial:
                sample_only = "classes" not in get_method(method).scopes
                result = runner.unlearn_and_evaluate(
                    co, method, [], UnlearnConfig(), train, seed, samples=forget,
                    options=options if sample_only else None,
                )  # fmt: skip
                trial.undo()
            rows.append({"dataset": dataset, "seed": seed, "method": method, "samples": n,
                         "train_seconds": train_seconds, **result})  # fmt: skip
    retrain = next(r for r in rows if r["method"] == "retrain")
    for row in rows:
        row["gap_test"] = 100 * (row["test_acc"] - retrain["test_acc"])
        row["gap_retain"] = 100 * (row["retain_acc"] - retrain["retain_acc"])
        row["gap_forget"] = 100 * (row["forget_acc"] - retrain["forget_acc"])
        row["speedup"] = retrain["seconds"] / max(row["seconds"], 1e-9)
    return rows


def _mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown, mean ± std over seeds, per dataset and method."""
    head = ("| dataset | method | test % | retained % | forget % | MIA % | seconds | "
            "Δtest | Δretained | Δforget | speed-up | meets targets |")  # fmt: skip
    out = [head, "|" + "---|" * 12]
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        for method in ROWS:
            rs = [r for r in rows if r["dataset"] == dataset and r["method"] == method]
            pct = {
                k: [100 * r[k] for r in rs] for k in ("test_acc", "retain_acc", "forget_acc", "mia")
            }
            meets = all(
                abs(r["gap_test"]) <= TARGETS["test"]
                and abs(r["gap_retain"]) <= TARGETS["retain"]
                and abs(r["gap_forget"]) <= TARGETS["forget"]
                and r["speedup"] >= TARGETS["speedup"]
                for r in rs
            )
            cells = [_mean_std(pct[k]) for k in pct]
            cells += [_mean_std([r["seconds"] for r in rs])]
            cells += [
                _mean_std([r[k] for r in rs]) for k in ("gap_test", "gap_retain", "gap_forget")
            ]
            cells += [_mean_std([r["speedup"] for r in rs])]
            verdict = "—" if method in ("retrain", "original") else ("yes" if meets else "no")
            out.append(f"| {dataset} | {method} | " + " | ".join(cells) + f" | {verdict} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["digits"])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--fraction", type=float, default=0.01)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE",
        help="a sample method's option (SampleOptions: lr, optimizer); repeat",
    )  # fmt: skip
    args = parser.parse_args()
    options = {}
    for item in args.option:
        key, _, value = item.partition("=")
        options[key] = float(value) if key == "lr" else value
    rows = []
    for dataset in args.datasets:
        data_dir = args.data_dir if dataset == "mnist" else None
        for seed in args.seeds:
            rows += run(dataset, data_dir, seed, args.fraction, options)
            print(f"done {dataset} seed {seed}", flush=True)
    print(f"options: {options or 'defaults'}")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
