"""Write a bank-style vertical split: one folder per organisation, each with only its own file.

    python examples/make_bank_split.py --out deploy-data

gives::

    deploy-data/active/labels.csv      id, product (the label, as a name), split
    deploy-data/active/features.csv    id, income, age, tenure  (the bank's own columns)
    deploy-data/passive-0/party-0.csv  id, 8 card-spending columns     (a card issuer)
    deploy-data/passive-1/party-1.csv  id, 8 browsing columns, region  (a retailer)
    deploy-data/operator/score-ids.txt some customer IDs to score with `vfl predict`

and, for new customers who have no label yet (``--score-data``; ``vfl predict`` scores
them after ``vfl align``, without retraining)::

    deploy-data/active/new-customers.csv   id, income, age, tenure
    deploy-data/passive-0/party-0-new.csv  id, the card columns
    deploy-data/passive-1/party-1-new.csv  id, the browsing columns, region
    deploy-data/operator/new-ids.txt       the new customers every organisation holds

The labels ("loan", "mortgage", "card", "savings": the product a customer took)
exist only in the bank's folder. The ID sets overlap only partly: each
organisation also holds customers the others do not, so `vfl align` has real
work to do. The data are synthetic (scikit-learn's ``make_classification``),
seeded, so every run writes the same files.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification

PRODUCTS = ("loan", "mortgage", "card", "savings")
REGIONS = ("north", "south", "east", "west")
COLUMNS = {
    "active": ["income", "age", "tenure"],
    "passive-0": [f"spend_{k}" for k in range(8)],
    "passive-1": [f"visits_{k}" for k in range(8)],
}
KEEP = {"active": 0.92, "passive-0": 0.9, "passive-1": 0.88}
"""The share of all customers each organisation holds (each also has its own extra ones)."""


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _fmt(values: np.ndarray) -> list[str]:
    return [f"{v:.5g}" for v in values]


NEW_FILES = {"active": "new-customers.csv", "passive-0": "party-0-new.csv",
             "passive-1": "party-1-new.csv"}  # fmt: skip


def make_split(
    out: Path, customers: int = 3000, seed: int = 0, new_customers: int = 100
) -> dict[str, int]:
    """Write the four files, the new customers' files and the ID lists; return each
    organisation's row count."""
    rng = np.random.default_rng(seed)
    width = sum(len(c) for c in COLUMNS.values())
    total = customers + new_customers
    x, y = make_classification(
        n_samples=total, n_features=width, n_informative=12, n_redundant=2,
        n_classes=len(PRODUCTS), n_clusters_per_class=1, class_sep=1.2, random_state=seed,
    )  # fmt: skip
    ids = np.array([f"cust-{k:06d}" for k in rng.permutation(total)])
    held = {name: rng.random(total) < share for name, share in KEEP.items()}
    is_new = np.arange(total) >= customers
    start, counts = 0, {}
    for name, columns in COLUMNS.items():
        block = x[:, start : start + len(columns)]
        start += len(columns)
        rows = [[ids[k], *_fmt(block[k])] for k in np.flatnonzero(held[name])]
        extra = 40  # customers only this organisation has
        noise = rng.normal(size=(extra, len(columns)))
        rows += [[f"{name}-only-{k:04d}", *_fmt(noise[k])] for k in range(extra)]
        header = ["id", *columns]
        if name == "passive-1":
            header.append("region")
            rows = [[*row, REGIONS[int(rng.integers(len(REGIONS)))]] for row in rows]
        rng.shuffle(rows)
        new = {str(i) for i in ids[is_new]}
        file = "features.csv" if name == "active" else f"party-{name[-1]}.csv"
        _write(out / name / file, header, [r for r in rows if r[0] not in new])
        _write(out / name / NEW_FILES[name], header, [r for r in rows if r[0] in new])
        counts[name] = len(rows)
    labelled = np.flatnonzero(held["active"] & ~is_new)
    split = np.where(rng.random(len(labelled)) < 0.25, "test", "train")
    label_rows = [[ids[k], PRODUCTS[y[k]], s] for k, s in zip(labelled, split, strict=True)]
    _write(out / "active" / "labels.csv", ["id", "product", "split"], label_rows)
    shared = held["active"] & held["passive-0"] & held["passive-1"]
    (out / "operator").mkdir(parents=True, exist_ok=True)
    old = np.flatnonzero(shared & ~is_new)[:200]
    (out / "operator" / "score-ids.txt").write_text("\n".join(ids[old]) + "\n")
    (out / "operator" / "new-ids.txt").write_text(
        "\n".join(ids[np.flatnonzero(shared & is_new)]) + "\n"
    )
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("deploy-data"))
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    counts = make_split(args.out, args.customers, args.seed)
    for name, n in counts.items():
        print(f"{args.out / name}: {n} rows")


if __name__ == "__main__":
    main()
