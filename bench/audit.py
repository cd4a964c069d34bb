"""Privacy audit benchmark: every attack, undefended vs each defense, on one dataset.

Trains the undefended federation once (plain ``luv``) and one defended
federation per defense setting, runs every registered attack after each stage,
and prints a Markdown table (attack x setting) plus the utility rows. Writes
all arms to ``--out`` (JSON).

    python bench/audit.py --dataset digits
    python bench/audit.py --dataset mnist --data-dir ../shared/data/mnist --epochs 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from vfl.audit.defenses import DefenseConfig
from vfl.audit.run import AuditConfig, run_arm
from vfl.coordinator import TrainConfig
from vfl.federation import FederationSpec
from vfl.simulation import default_epochs

SETTINGS: dict[str, tuple[list[str], float]] = {
    # label: (defenses, noise multiplier)
    "hide": (["hide"], 0.0),
    "noise 0.5": (["noise"], 0.5),
    "noise 2": (["noise"], 2.0),
    "maxnorm": (["maxnorm"], 0.0),
}
UTILITY = ("original_retain_acc", "retain_acc", "forget_acc", "retrained_retain_acc")


def arm_row(arm: dict[str, Any]) -> dict[str, Any]:
    values = {(f.name, f.metric): f.value for f in arm["findings"]}
    details = {(f.name, f.metric): f.detail for f in arm["findings"]}
    u = arm["utility"]
    utility = {
        "original_retain_acc": u["original"]["retain_acc"],
        "retain_acc": u["unlearned"]["retain_acc"],
        "forget_acc": u["unlearned"]["forget_acc"],
        **({"retrained_retain_acc": u["retrained"]["retain_acc"]} if "retrained" in u else {}),
    }
    return {"method": arm["method"], "values": values, "details": details, "utility": utility}


def markdown(rows: dict[str, dict[str, Any]]) -> str:
    labels = list(rows)
    keys = list(dict.fromkeys(k for r in rows.values() for k in r["values"]))
    keys.sort(key=lambda k: k[0])  # stable: stages stay in order within an attack
    lines = [
        "| attack | metric | " + " | ".join(labels) + " |",
        "|---|---|" + "---:|" * len(labels),
    ]
    for name, metric in keys:
        cells = [rows[lab]["values"].get((name, metric)) for lab in labels]
        lines.append(
            f"| {name} | {metric} | "
            + " | ".join("-" if v is None else f"{v:.3f}" for v in cells)
            + " |"
        )
    lines.append("| utility | method | " + " | ".join(rows[lab]["method"] for lab in labels) + " |")
    for key in UTILITY:
        cells = [rows[lab]["utility"].get(key) for lab in labels]
        lines.append(
            f"| utility | {key} % | "
            + " | ".join("-" if v is None else f"{100 * v:.2f}" for v in cells)
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--forget", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--no-retrain", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("bench/results/audit.json"))
    args = parser.parse_args()

    spec = FederationSpec(dataset=args.dataset, data_dir=args.data_dir, seed=args.seed)
    data = spec.load()
    train = TrainConfig(epochs=args.epochs or default_epochs(data.n_train))
    base = AuditConfig(
        federation=spec, classes=[args.forget], compare_retrain=not args.no_retrain, train=train
    )
    rows: dict[str, dict[str, Any]] = {}
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    rows["undefended"] = arm_row(run_arm(base, data, train, defended=False))
    seconds["undefended"] = time.perf_counter() - start
    for label in args.settings:
        defenses, noise = SETTINGS[label]
        cfg = base.model_copy(
            update={"defenses": defenses, "defense": DefenseConfig(noise_multiplier=noise)}
        )
        start = time.perf_counter()
        rows[label] = arm_row(run_arm(cfg, data, train, defended=True))
        seconds[label] = time.perf_counter() - start
    print(f"dataset {args.dataset}, train epochs {train.epochs}, forget class {args.forget}")
    print(markdown(rows))
    print("seconds per arm: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    serialisable = {
        label: {
            "method": r["method"],
            "utility": r["utility"],
            "attacks": [
                {"name": n, "metric": m, "value": v, "detail": r["details"][(n, m)]}
                for (n, m), v in r["values"].items()
            ],
            "seconds": seconds[label],
        }
        for label, r in rows.items()
    }
    args.out.write_text(json.dumps({"dataset": args.dataset, "arms": serialisable}, indent=2))


if __name__ == "__main__":
    main()
