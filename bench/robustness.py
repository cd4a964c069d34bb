"""LUV's working window: does one set of defaults forget across settings?

Each cell is one setting (dataset, bottom model, training batch size, passive
parties, torch threads): it trains the federation once, runs LUV with the
defaults (or each ``--set`` variant, from the same trained model), and reports
the forgotten class's test accuracy, the retained classes' loss in accuracy
points, and whether LUV itself said it reached its target. Test data only
*scores* a cell; nothing in the request looks at it. A cell passes when the
forgotten class is at or below 1 % and the retained classes lost at most one
point.

Every cell runs in its own process with ``OMP_NUM_THREADS`` set, so the thread
count is the one torch starts with.

    nice -n 10 python bench/robustness.py --data-dir ../shared/data/mnist
    python bench/robustness.py --datasets digits --models mlp --batch-sizes 64 \
        --threads 1 --set bottom_lr_scale=0 --json out.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

FORGET_MAX, RETAIN_LOSS_MAX = 0.01, 0.01


def run_cell(cell: dict[str, Any]) -> list[dict[str, Any]]:
    """Train one setting once; run LUV for every variant from the same trained model."""
    import time

    from vfl.coordinator import TrainConfig
    from vfl.federation import FederationSpec
    from vfl.metrics import evaluate
    from vfl.models.bottom import BottomModelConfig
    from vfl.seeding import derive_seed
    from vfl.simulation import default_epochs
    from vfl.transport import open_federation
    from vfl.unlearning import UnlearnConfig
    from vfl.unlearning.run import unlearn_and_evaluate

    data_dir = cell["data_dir"] if cell["dataset"] == "mnist" else None
    spec = FederationSpec(
        dataset=cell["dataset"],
        data_dir=data_dir,
        parties=cell["parties"],
        model=BottomModelConfig(name=cell["model"]),
        seed=cell["seed"],
    )
    data = spec.load()
    train = TrainConfig(epochs=default_epochs(data.n_train), batch_size=cell["batch_size"])
    classes = [cell["cls"]]
    rows = []
    with open_federation("inprocess", spec, data) as co:
        start = time.perf_counter()
        co.train(data.train_ids, train, derive_seed(cell["seed"], "train-order"))
        train_seconds = time.perf_counter() - start
        original = evaluate(co, co.active.labels, classes)
        for variant in cell["variants"]:
            with co.trial("original") as trial:
                result = unlearn_and_evaluate(
                    co, "luv", classes, UnlearnConfig(**variant), train, cell["seed"]
                )
                trial.undo()
            retain_loss = original.retain_acc - result["retain_acc"]
            rows.append(
                {
                    **{k: v for k, v in cell.items() if k not in ("variants", "data_dir")},
                    "variant": variant,
                    "original_retain_acc": original.retain_acc,
                    "original_forget_acc": original.forget_acc,
                    "retain_acc": result["retain_acc"],
                    "forget_acc": result["forget_acc"],
                    "retain_loss": retain_loss,
                    "mia": result["mia"],
                    "target_reached": result.get("target_reached"),
                    "shortfall": result.get("shortfall"),
                    "unlearn_seconds": result["seconds"],
                    "train_seconds": train_seconds,
                    "passed": result["forget_acc"] <= FORGET_MAX and retain_loss <= RETAIN_LOSS_MAX,
                }
            )
    return rows


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_variants(sets: list[str]) -> list[dict[str, Any]]:
    """``--set a=1,b=2`` is one variant; no ``--set`` means the defaults alone."""
    variants = []
    for spec in sets or [""]:
        pairs = [p for p in spec.split(",") if p]
        variants.append({k: _value(v) for k, v in (p.split("=", 1) for p in pairs)})
    return variants


def spawn(cell: dict[str, Any]) -> list[dict[str, Any]]:
    """Run one cell in a fresh interpreter that starts with the cell's thread count."""
    env = {**os.environ, "OMP_NUM_THREADS": str(cell["threads"])}
    command = [sys.executable, __file__, "--worker", json.dumps(cell)]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"cell {cell} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| dataset | model | batch | parties | threads | variant | forgotten % "
        "| retained loss (points) | LUV says | pass |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        says = {True: "reached", False: f"short {100 * (r['shortfall'] or 0):.1f}", None: "-"}
        variant = ",".join(f"{k}={v}" for k, v in r["variant"].items()) or "defaults"
        lines.append(
            f"| {r['dataset']} | {r['model']} | {r['batch_size']} | {r['parties']} "
            f"| {r['threads']} | {variant} | {100 * r['forget_acc']:.2f} "
            f"| {100 * r['retain_loss']:+.2f} | {says[r['target_reached']]} "
            f"| {'yes' if r['passed'] else 'NO'} |"
        )
    passed = sum(r["passed"] for r in rows)
    lines.append(f"\n{passed} of {len(rows)} cells pass (forgotten ≤ 1 %, retained loss ≤ 1 point)")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--datasets", nargs="+", default=["digits", "mnist"])
    p.add_argument("--data-dir", default="../shared/data/mnist")
    p.add_argument("--models", nargs="+", default=["mlp", "cnn"])
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128, 450])
    p.add_argument("--parties", type=int, nargs="+", default=[2, 4])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--class", dest="cls", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", help="KEY=VALUE[,KEY=VALUE] of UnlearnConfig")
    p.add_argument("--json", type=Path, help="also write the rows here")
    args = p.parse_args()
    if args.worker:
        print(json.dumps(run_cell(json.loads(args.worker))))
        return
    variants = parse_variants(args.set)
    rows: list[dict[str, Any]] = []
    grid = itertools.product(
        args.datasets, args.models, args.batch_sizes, args.parties, args.threads
    )
    for dataset, model, batch, parties, threads in grid:
        cell = {
            "dataset": dataset,
            "data_dir": str(Path(args.data_dir).resolve()),
            "model": model,
            "batch_size": batch,
            "parties": parties,
            "threads": threads,
            "cls": args.cls,
            "seed": args.seed,
            "variants": variants,
        }
        new = spawn(cell)
        rows += new
        for r in new:
            print(json.dumps(r), file=sys.stderr, flush=True)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
    print(markdown(rows))


if __name__ == "__main__":
    main()
