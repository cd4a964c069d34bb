"""Any benchmark, this checkout against a baseline commit, side by side in one run.

    python bench/ab.py --baseline 3c218b0 --runs 3 --keys latency.one_call.grpc.p50 \\
        -- bench/transport.py --data-dir ../shared/data/mnist --parts latency --json {json}
    python bench/ab.py --baseline 3c218b0 --runs 3 \\
        --keys train_seconds,unlearned.seconds,retrained.seconds -- -m vfl simulate --json {json}

The command (Python arguments; ``{json}`` is replaced by a fresh output file)
runs with the baseline tree (a temporary ``git worktree``) and this tree in
alternation, ``--runs`` times each, so a busy machine slows both alike; the
table gives the median of each JSON key (dotted path) and the ratio
current / baseline. The script file itself is taken from this tree, so both
sides run the same benchmark code against their own ``vfl``; each side runs in
its own tree's directory, so processes it starts import that tree's packages.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run(tree: Path, args: list[str], out: Path) -> dict[str, Any]:
    """``python ARGS`` with ``tree`` first on the path; the JSON it wrote."""
    argv = [a.replace("{json}", str(out)) for a in args]
    argv = [a if prev == "-m" else _absolute(a) for prev, a in zip(["", *argv], argv, strict=False)]
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONWARNINGS": "ignore"}
    # cwd is the tree too: a child started with ``python -m parties...`` must import
    # that tree's packages, not this checkout's.
    proc = subprocess.run(
        [sys.executable, *argv], cwd=tree, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"{tree}: {' '.join(argv)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(out.read_text())


def _absolute(arg: str) -> str:
    """A path argument that exists relative to this checkout, made absolute (cwd moves)."""
    if arg.startswith("-") or not (ROOT / arg).exists():
        return arg
    return str((ROOT / arg).resolve())


def pick(report: dict[str, Any], key: str) -> float:
    value: Any = report
    for part in key.split("."):
        value = value[part]
    return float(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="git ref to compare against")
    parser.add_argument("--runs", type=int, default=3, help="runs per tree")
    parser.add_argument("--keys", required=True, help="comma-separated dotted JSON paths")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then Python arguments")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    keys = args.keys.split(",")

    values: dict[str, dict[str, list[float]]] = {k: {"baseline": [], "current": []} for k in keys}
    with tempfile.TemporaryDirectory(prefix="vfl-ab-") as tmp:
        base = Path(tmp) / "tree"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "--detach", str(base), args.baseline], check=True)
        try:
            for i in range(args.runs):
                for side, tree in (("baseline", base), ("current", ROOT)):
                    report = run(tree, command, Path(tmp) / f"{side}-{i}.json")
                    for key in keys:
                        values[key][side].append(pick(report, key))
        finally:
            subprocess.run([*git, "remove", "--force", str(base)], check=True)

    print(f"median of {args.runs} runs each, alternating; baseline = {args.baseline}")
    print(f"command: python {' '.join(command)}")
    print("| key | baseline | current | current / baseline |\n|---|---:|---:|---:|")
    for key in keys:
        b, c = (statistics.median(values[key][s]) for s in ("baseline", "current"))
        ratio = f"{c / b:.2f}×" if b else "—"  # a zero baseline (0 % forgotten) has no ratio
        print(f"| {key} | {b:.4g} | {c:.4g} | {ratio} |")


if __name__ == "__main__":
    main()
