"""The layering is a checked contract: the import-linter contracts in pyproject.toml hold.

``lint-imports`` (from the venv running the tests) builds the import graph of
``vfl`` and ``parties`` and checks every contract; a failure names the broken
contracts and prints the import chains that break them. A second test keeps the
contracts complete: a new top-level module of ``vfl`` must be placed in one of
them, or it would sit outside every rule.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
OUTSIDE_CONTRACTS = {"vfl.__main__", "vfl.__init__"}
"""Top-level modules no contract needs to name (``python -m vfl`` only calls the CLI; the
package root holds ``__version__`` and imports only the standard library)."""


def _contracts() -> list[dict[str, Any]]:
    return tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]


def _named_modules(contract: dict[str, Any]) -> set[str]:
    """Every module a contract names (layers may hold several, split by ``|`` or ``:``)."""
    names: set[str] = set()
    for key in ("source_modules", "forbidden_modules", "modules", "layers"):
        for entry in contract.get(key, []):
            names.update(part.strip() for part in re.split(r"[|:]", entry))
    return names


def _top_level_modules() -> set[str]:
    found = {"parties"}
    for path in (ROOT / "vfl").iterdir():
        if path.suffix == ".py" or (path / "__init__.py").exists():
            found.add(f"vfl.{path.stem}")
    return found


def _verdicts(output: str) -> dict[str, str]:
    """``{contract name: "KEPT" | "BROKEN"}`` from lint-imports' summary lines."""
    found = (re.match(r"^(.+) (KEPT|BROKEN)( \(.*\))?$", line) for line in output.splitlines())
    return {m.group(1): m.group(2) for m in found if m}


def test_the_import_contracts_hold() -> None:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the dev extra (pip install -e '.[dev]')")
    run = subprocess.run(  # it reads pyproject.toml in cwd, in every version
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    verdicts = _verdicts(run.stdout)
    broken = [name for name, verdict in verdicts.items() if verdict == "BROKEN"]
    assert run.returncode == 0, (
        f"import contracts broken: {broken or '(none named: see the error below)'}\n"
        f"{run.stdout}{run.stderr}"
    )
    unchecked = [c["name"] for c in _contracts() if verdicts.get(c["name"]) != "KEPT"]
    assert not unchecked, f"lint-imports did not report these contracts as kept: {unchecked}"


def test_every_top_level_module_is_named_by_a_contract() -> None:
    named = set().union(*(_named_modules(c) for c in _contracts()))
    unplaced = sorted(_top_level_modules() - named - OUTSIDE_CONTRACTS)
    assert not unplaced, (
        f"{unplaced} are in no import contract: add each to the core's source_modules "
        "(it imports nothing above the core) or to a layer in pyproject.toml"
    )
