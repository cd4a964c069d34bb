"""A user's model from a module path over real party processes (slow lane).

Each ``vfl serve passive`` process imports ``tests.fixtures.user_models`` itself;
the numbers equal the in-process run's for the same settings.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.fixtures.cli import run_vfl

MODELS = ["--model", "tests.fixtures.user_models:Tower,mlp"]
TOP = ["--top-model", "tests.fixtures.user_models:Top"]
QUICK = ["simulate", "--epochs", "1", "--no-compare-retrain", "--quiet", "--json", "-"]


@pytest.mark.slow
def test_grpc_parties_build_the_user_model_and_match_in_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "vfl", *QUICK, "--transport", "grpc", *MODELS, *TOP],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    remote = json.loads(proc.stdout)
    local = run_vfl(*QUICK, *MODELS, *TOP)
    assert local.exit_code == 0, local.stderr
    here = json.loads(local.stdout)
    for phase in ("original", "unlearned"):
        assert remote[phase]["test_acc"] == here[phase]["test_acc"], phase
