"""The paper-style benchmark suite: tables 1-5 of BENCHMARKS.md in one command.

    python bench/suite.py --quick                  # digits, 1 seed: a few minutes on 2 cores
    python bench/suite.py --data-dir ../shared/data/mnist   # + MNIST, 3 seeds (see BENCHMARKS.md)

Each table reuses ``bench/unlearning.py``: train once per seed, run every method
from the same snapshot; the accuracy-per-epoch plot reuses ``bench/curves.py``.
Table 6 (transport) is ``bench/transport.py``. Results
are printed as Markdown and saved under ``--out`` (one JSON per table).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from curves import ABLATION, run_curves
from unlearning import markdown, run_seed, summarise

from vfl.unlearning import UnlearnConfig

ALL_METHODS = [
    "retrain",
    "finetune",
    "gradient-ascent",
    "random-label",
    "boundary-shrink",
    "mixup-ascent",
    "luv",
]


def table(args: argparse.Namespace, name: str, **overrides: object) -> str:
    """Run one configuration over the seeds; save rows; return its Markdown table."""
    ns = argparse.Namespace(**{**vars(args), **overrides})
    rows = [row for seed in ns.seeds for row in run_seed(ns, seed)]
    (args.out / f"{name}.json").write_text(json.dumps(rows, indent=1))
    return markdown(summarise(rows))


def suite(args: argparse.Namespace, dataset: str, data_dir: Path | None) -> list[str]:
    base = {"dataset": dataset, "data_dir": data_dir}
    batch = {"batch_size": 128 if dataset != "digits" else 64}
    out = [f"## {dataset}\n", "### 1. Methods (forget class 3)\n"]
    out.append(table(args, f"{dataset}-methods", **base, **batch, methods=ALL_METHODS))
    for k in (2, 4):
        classes = [3, 1, 7, 5][:k]
        out.append(f"\n### 2. Forgetting {k} classes {classes}\n")
        out.append(table(args, f"{dataset}-classes{k}", **base, **batch, classes=classes))
    for parties in (4, 8):
        out.append(f"\n### 3. {parties} passive parties\n")
        out.append(table(args, f"{dataset}-parties{parties}", **base, **batch, parties=parties))
    for n_forget in (10, 20, 80):
        out.append(f"\n### 4. {n_forget} forget samples\n")
        out.append(
            table(args, f"{dataset}-forget{n_forget}", **base, **batch, forget_samples=n_forget)
        )
    for n_rec in (1, 5):
        out.append(f"\n### 4. {n_rec} recovery samples per class\n")
        out.append(table(args, f"{dataset}-recovery{n_rec}", **base, **batch, recovery=n_rec))
    png = args.out / f"{dataset}-curves.png"
    ns = argparse.Namespace(**{**vars(args), **base, **batch, "methods": ABLATION})
    run_curves(ns, args.out / f"{dataset}-curves.json", png)
    out.append(f"\n### Accuracy across unlearning epochs: `{png}`\n")
    return out


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="digits only, one seed")
    p.add_argument("--data-dir", type=Path, help="MNIST directory (full mode)")
    p.add_argument("--out", type=Path, default=Path("bench/results/suite"))
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    defaults = UnlearnConfig()
    common = {
        "parties": 2,
        "classes": [3],
        "methods": ["retrain", "luv"],
        "epochs": None,
        "forget_samples": defaults.forget_samples,
        "recovery": defaults.recovery_per_class,
        "transport": "inprocess",
        "seeds": [0] if args.quick else [0, 1, 2],
    }
    for key, value in common.items():
        setattr(args, key, value)
    start = time.perf_counter()
    sections = suite(args, "digits", None)
    if not args.quick and args.data_dir:
        sections += ["\n", *suite(args, "mnist", args.data_dir)]
    sections.append(f"\n_suite wall time: {time.perf_counter() - start:.0f} s_")
    print("\n".join(sections))


if __name__ == "__main__":
    main()
