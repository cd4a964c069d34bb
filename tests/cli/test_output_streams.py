"""Results on stdout, everything else on stderr; JSON documents with a header and nulls.

The operator commands run against a scripted coordinator client (the gRPC path
has its own tests): what is checked here is where each command writes, which
only the CLI decides.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fixtures.cli import run_vfl
from tests.fixtures.operator_client import ScriptedClient

HEADER = ["schema_version", "vfl_version", "created_at"]


@pytest.fixture
def coordinator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vfl.cli.options.CoordinatorClient", ScriptedClient)


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["status"], "passive-0"),
        (["requests", "list"], "abc123"),
        (["requests", "show", "abc123"], "abc123"),
        (["train", "--wait", "--quiet"], "test accuracy 90.00%"),
    ],
)
def test_operator_results_go_to_stdout(coordinator: None, args: list[str], shown: str) -> None:
    result = run_vfl(*args, "--insecure")
    assert result.exit_code == 0, result.stderr
    assert shown in result.stdout
    assert result.stderr == ""


def test_a_json_record_has_the_header_first_and_null_for_what_does_not_apply(
    coordinator: None,
) -> None:
    result = run_vfl("requests", "show", "abc123", "--json", "--insecure")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert list(shown)[:3] == HEADER and shown["schema_version"] == 1
    assert shown["created_at"].endswith("+00:00")
    assert shown["after"]["mia"] is None and shown["after"]["forget_acc"] is None
    assert shown["after"]["test_acc"] == 0.9


def test_status_json_is_one_strict_document(coordinator: None) -> None:
    result = run_vfl("status", "--json", "--insecure")
    assert result.exit_code == 0, result.stderr
    status = json.loads(result.stdout)  # the whole stdout: nothing else was printed there
    assert list(status)[:3] == HEADER and status["parties"][0]["party_id"] == "passive-0"


SIMULATE = ["simulate", "--quiet", "--epochs", "1", "--no-compare-retrain", "--unlearn-epochs", "1"]


def test_simulate_table_on_stdout_json_dash_alone_on_stdout(tmp_path: Any) -> None:
    table = run_vfl(*SIMULATE)
    assert table.exit_code == 0, table.stderr
    assert "unlearned" in table.stdout and "unlearned" not in table.stderr

    report = run_vfl(*SIMULATE, "--json", "-")
    assert report.exit_code == 0, report.stderr
    assert not (tmp_path / "-").exists()
    document = json.loads(report.stdout)
    assert list(document)[:4] == [*HEADER, "dataset"]
    assert document["classes_forgotten"] == [3]
    assert "unlearned" in report.stderr  # the table moved to stderr


def test_simulate_report_key_order_is_stable(tmp_path: Any) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        assert run_vfl(*SIMULATE, "--json", str(out)).exit_code == 0

    def keys(value: Any) -> Any:
        if isinstance(value, dict):
            return [(k, keys(v)) for k, v in value.items()]
        return None

    assert keys(json.loads(first.read_text())) == keys(json.loads(second.read_text()))
