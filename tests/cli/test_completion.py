"""Shell completion (`vfl --install-completion`), answered by the real console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

VFL = Path(sys.executable).parent / "vfl"
"""The console script `pip install` put next to the interpreter (scripts/setup.sh does)."""


def complete(words: str) -> list[str]:
    """What bash completion offers for the last of ``words`` (the protocol click speaks)."""
    env = os.environ | {
        "_VFL_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    done = subprocess.run([str(VFL)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_commands_and_options_complete() -> None:
    assert complete("vfl sim") == ["simulate"]
    assert "--method" in complete("vfl unlearn --me")


def test_the_completion_script_is_printed() -> None:
    from typer.testing import CliRunner

    from vfl.cli.app import app

    result = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="vfl")
    assert result.exit_code == 0
    assert "_VFL_COMPLETE=complete_bash" in result.output
