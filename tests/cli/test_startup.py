"""``vfl --help`` and the operator commands import neither torch nor scikit-learn.

Operators run ``vfl status`` and friends often; importing torch would cost
them about two seconds per call for nothing. Each check runs in a fresh
interpreter, since this test process has long since imported both.
"""

from __future__ import annotations

import subprocess
import sys

# Imports the CLI, invokes each command line given as arguments (help, or a
# command that fails before connecting) and after each prints the heavy modules
# loaded so far: one output line per command, so a failure names the first culprit.
PROBE = """
import sys
from typer.testing import CliRunner
from vfl.cli.app import app

for line in sys.argv[1:]:
    result = CliRunner().invoke(app, line.split())
    assert result.exit_code in (0, 2), (line, result.exit_code, result.output)
    print(line, "->", " ".join(m for m in ("torch", "sklearn") if m in sys.modules))
"""

HELP = [
    "--help",
    "status --help",
    "train --help",
    "unlearn --help",
    "requests list --help",
    "requests show --help",
    "repair --help",
    "receipt verify --help",
    "receipt export --help",
    "certs init --help",
    "simulate --help",
    "audit --help",
    "serve passive --help",
    "serve active --help",
    "serve health --help",
]


def heavy_modules_loaded(*lines: str) -> dict[str, str]:
    """Command line -> the heavy modules loaded once it ran (all in one fresh interpreter)."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *lines], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return dict(out.split(" -> ") for out in proc.stdout.splitlines())


def test_help_of_every_command_imports_no_torch_or_sklearn() -> None:
    assert heavy_modules_loaded(*HELP) == dict.fromkeys(HELP, "")


OPERATOR_COMMANDS = [  # nothing listens on port 1: each connects, fails with exit 2, that is all
    "status --insecure --coordinator 127.0.0.1:1",
    "requests list --insecure --coordinator 127.0.0.1:1",
    "unlearn --class 3 --insecure --coordinator 127.0.0.1:1",
]


def test_an_operator_command_that_runs_imports_no_torch_or_sklearn() -> None:
    assert heavy_modules_loaded(*OPERATOR_COMMANDS) == dict.fromkeys(OPERATOR_COMMANDS, "")


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    from tests.fixtures.cli import run_vfl

    result = run_vfl("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"vfl {version('vfl')}"


def test_import_vfl_loads_no_torch_until_the_api_is_used() -> None:
    import subprocess
    import sys

    code = (
        "import sys, vfl; assert 'torch' not in sys.modules, 'torch at import'; "
        "vfl.Federation; assert 'torch' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
