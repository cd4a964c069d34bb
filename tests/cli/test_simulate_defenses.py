"""`vfl simulate --defense`: the audit's gradient defenses on an ordinary run."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from vfl.cli.app import app

runner = CliRunner()
QUICK = ["--epochs", "3", "--no-compare-retrain", "--quiet"]


def simulate(tmp_path: Path, name: str, *args: str) -> dict:
    out = tmp_path / f"{name}.json"
    result = runner.invoke(app, ["simulate", *QUICK, "--json", str(out), *args])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def test_a_defense_changes_the_gradients_every_step_and_is_reported(tmp_path: Path) -> None:
    plain = simulate(tmp_path, "plain")
    noisy = simulate(tmp_path, "noisy", "--defense", "noise", "--noise", "2.0")
    assert plain["defenses"] == [] and plain["defense_config"] is None
    assert noisy["defenses"] == ["noise"]
    assert noisy["defense_config"]["noise_multiplier"] == 2.0
    # the noise reaches training too, not only the unlearning request
    assert noisy["original"]["test_acc"] != plain["original"]["test_acc"]
    again = simulate(tmp_path, "again", "--defense", "noise", "--noise", "2.0")
    assert again["original"] == noisy["original"]  # seeded: the same run twice


def test_hide_runs_the_request_hiding_method(tmp_path: Path) -> None:
    report = simulate(tmp_path, "hidden", "--defense", "hide")
    assert report["method"] == "luv-hidden"


def test_an_unknown_defense_is_one_line_before_training() -> None:
    result = runner.invoke(app, ["simulate", *QUICK, "--defense", "blur"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [
        "vfl: error: unknown defense 'blur'; choose one of: align, equalize, hide, maxnorm, noise"
    ]
