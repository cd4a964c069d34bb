"""CLI start-up: this checkout against a baseline commit, side by side in one run.

    python bench/cli_startup.py --baseline 65d1f5d --runs 9

Operators run ``vfl status`` and friends often, so their cost is mostly the
interpreter importing the CLI. Each command runs as a fresh process, with the
current tree and the baseline (a temporary ``git worktree``) in alternation,
so a busy machine slows both alike; the table gives medians and the ratio
current / baseline. ``status`` points at a closed port: it connects, fails
with exit code 2, and measures everything but a live server's answer.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "vfl --help": ["--help"],
    "vfl status (nothing listening)": ["status", "--insecure", "--coordinator", "127.0.0.1:1"],
}


def run(tree: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``python ARGS`` importing vfl from ``tree`` first."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=tempfile.gettempdir(),  # not the repo: its vfl/ must not shadow PYTHONPATH
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        check=False,
    )


def check_imports_from(tree: Path) -> None:
    """The editable install must not win over PYTHONPATH, or both sides measure one tree."""
    out = run(tree, "-c", "import vfl.cli.app as m; print(m.__file__)").stdout.decode().strip()
    if not Path(out).is_relative_to(tree):
        raise SystemExit(f"expected vfl from {tree}, got {out}")


def timed(tree: Path, args: list[str]) -> float:
    """Seconds for one fresh `vfl ARGS` process importing from ``tree``."""
    start = time.perf_counter()
    proc = run(tree, "-m", "vfl", *args)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 2):
        raise SystemExit(f"{tree}: vfl {' '.join(args)} failed:\n{proc.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="git ref to compare against")
    parser.add_argument("--runs", type=int, default=9, help="runs per command and tree")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vfl-baseline-") as tmp:
        base = Path(tmp) / "tree"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "--detach", str(base), args.baseline], check=True)
        try:
            check_imports_from(base)
            check_imports_from(ROOT)
            rows = []
            for name, cli_args in COMMANDS.items():
                times: dict[str, list[float]] = {"baseline": [], "current": []}
                for _ in range(args.runs):
                    times["baseline"].append(timed(base, cli_args))
                    times["current"].append(timed(ROOT, cli_args))
                b, c = (statistics.median(times[k]) for k in ("baseline", "current"))
                rows.append((name, b, c))
        finally:
            subprocess.run([*git, "remove", "--force", str(base)], check=True)

    print(f"median of {args.runs} runs each, alternating; baseline = {args.baseline}")
    print("| command | baseline | current | current / baseline |\n|---|---|---|---|")
    for name, b, c in rows:
        print(f"| {name} | {b:.2f} s | {c:.2f} s | {c / b:.2f}× |")


if __name__ == "__main__":
    main()
