"""``vfl audit`` end to end: table, JSON report shape, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from vfl.cli.app import app

runner = CliRunner()


def test_audit_writes_the_documented_json(tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    result = runner.invoke(
        app,
        [
            "audit",
            "--dataset", "digits",
            "--unlearn-class", "3",
            "--defense", "noise",
            "--noise", "0.5",
            "--defense", "hide",
            "--attack", "forget-id",
            "--attack", "norm",
            "--epochs", "3",
            "--no-compare-retrain",
            "--quiet",
            "--json", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    names = {(a["name"], a["metric"]) for a in report["attacks"]}
    assert ("forget-id", "AUC among requested IDs") in names
    assert ("norm", "AUC (mean per batch)") in names
    for row in report["attacks"]:
        assert 0.0 <= row["undefended"] <= 1.0 and 0.0 <= row["defended"] <= 1.0
    better = {(a["name"], a["metric"]): a["better"] for a in report["attacks"]}
    assert better["forget-id", "AUC among requested IDs"] == "toward 0.5"
    assert better["forget-id", "chance level of that AUC"] == ""  # a reference, not a score
    assert "better" in result.output and "toward 0.5" in result.output
    assert report["defenses"] == ["noise", "hide"]
    assert report["defense_config"]["noise_multiplier"] == 0.5
    for arm in ("undefended", "defended"):
        assert set(report["utility"][arm]) >= {"retain_acc", "forget_acc"}
    assert report["utility"]["defended"]["method"] == "luv-hidden"
    assert "forget-id" in result.output


def test_unknown_defense_is_one_line_and_exit_2() -> None:
    result = runner.invoke(app, ["audit", "--defense", "blur", "--quiet"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    names = "align, equalize, hide, maxnorm, noise"
    assert lines == [f"vfl: error: unknown defense 'blur'; choose one of: {names}"]


def test_attacker_out_of_range_is_a_clear_error() -> None:
    result = runner.invoke(
        app, ["audit", "--attacker", "5", "--epochs", "1", "--attack", "norm", "--quiet"]
    )
    assert result.exit_code == 2
    assert "attacker party 5 does not exist" in result.output
