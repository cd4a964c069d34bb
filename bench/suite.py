"""The paper-style benchmark suite: tables 1-5 of BENCHMARKS.md in one command.

    python bench/suite.py --quick                  # digits, 1 seed: a few minutes on 2 cores
    python bench/suite.py --data-dir ../shared/data/mnist   # + MNIST, 3 seeds (see BENCHMARKS.md)

Each table reuses ``bench/unlearning.py``. Per seed and party count the federation
is trained once and every table's methods run from that same snapshot; retraining
is run once per set of forgotten classes and shared by the tables that ask for it
(it does not depend on the few-shot settings). The accuracy-per-epoch plot reuses
``bench/curves.py``.
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
from unlearning import METHODS, Job, markdown, run_jobs, summarise

from vfl.unlearning import UnlearnConfig


def jobs_for(args: argparse.Namespace) -> dict[int, list[Job]]:
    """Tables 1, 2 and 4 share the 2-party model; table 3 needs one model per party count."""

    def job(
        name: str,
        classes: tuple[int, ...] = (3,),
        methods: tuple[str, ...] = ("retrain", "luv"),
        **cfg: int,
    ) -> Job:
        settings = {"forget_samples": args.forget_samples, "recovery_per_class": args.recovery}
        return Job(name, list(classes), UnlearnConfig(**{**settings, **cfg}), list(methods))

    two = [job("methods", methods=tuple(METHODS))]
    two += [job(f"classes{k}", classes=(3, 1, 7, 5)[:k]) for k in (2, 4)]
    two += [job(f"forget{n}", forget_samples=n) for n in (10, 20, 80)]
    two += [job(f"recovery{n}", recovery_per_class=n) for n in (1, 5)]
    return {2: two, 4: [job("parties4")], 8: [job("parties8")]}


TITLES = {
    "methods": "1. Methods (forget class 3)",
    "classes2": "2. Forgetting 2 classes [3, 1]",
    "classes4": "2. Forgetting 4 classes [3, 1, 7, 5]",
    "parties4": "3. 4 passive parties",
    "parties8": "3. 8 passive parties",
    "forget10": "4. 10 forget samples",
    "forget20": "4. 20 forget samples",
    "forget80": "4. 80 forget samples",
    "recovery1": "4. 1 recovery sample per class",
    "recovery5": "4. 5 recovery samples per class",
}


def overview(rows: dict[str, list[dict]]) -> str:
    """One line per table: LUV next to retraining, so the settings where LUV bends stand out."""
    lines = [
        "| setting | LUV retained % | LUV forgotten % | LUV MIA % | retrain retained % "
        "| retrain MIA % | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, title in TITLES.items():
        stats = {s["method"]: s for s in summarise(rows[name])}
        luv, retrain = stats["luv"], stats["retrain"]

        def pm(v: tuple[float, float]) -> str:
            return f"{v[0] * 100:.2f} ± {v[1] * 100:.2f}"

        lines.append(
            f"| {title.split('. ', 1)[1]} | {pm(luv['retain_acc'])} | {pm(luv['forget_acc'])} "
            f"| {pm(luv['mia'])} | {pm(retrain['retain_acc'])} | {pm(retrain['mia'])} "
            f"| {luv['speedup']:.0f}x |"
        )
    return "\n".join(lines)


def suite(args: argparse.Namespace, dataset: str, data_dir: Path | None) -> list[str]:
    """Every table for ``dataset``: rows as JSON under ``args.out``, Markdown returned."""
    base = {"dataset": dataset, "data_dir": data_dir}
    batch = {"batch_size": 128 if dataset != "digits" else 64}
    rows: dict[str, list[dict]] = {name: [] for name in TITLES}
    for seed in args.seeds:
        for parties, jobs in jobs_for(args).items():
            ns = argparse.Namespace(**{**vars(args), **base, **batch, "parties": parties})
            for name, table_rows in run_jobs(ns, seed, jobs).items():
                rows[name] += table_rows
    out = [f"## {dataset}\n", "### Where LUV bends (mean ± std over seeds)\n", overview(rows), ""]
    for name, title in TITLES.items():
        (args.out / f"{dataset}-{name}.json").write_text(json.dumps(rows[name], indent=1))
        out += [f"\n### {title}\n", markdown(summarise(rows[name]))]
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
