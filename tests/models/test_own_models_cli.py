"""``vfl simulate --model module:attr`` / ``--top-model``: a user's models from the command line.

The runs use the app in this process (``tests.fixtures.cli``), so the counters of
``tests.fixtures.user_models`` show that the user's classes were the ones built;
tests/models/test_own_models_grpc.py runs a real ``python -m vfl`` over gRPC.
"""

from __future__ import annotations

import json

import pytest

from tests.fixtures import user_models
from tests.fixtures.cli import run_vfl
from vfl.coordinator import Coordinator

MOD = "tests.fixtures.user_models"
QUICK = ["simulate", "--epochs", "1", "--no-compare-retrain", "--quiet", "--json", "-"]


def test_simulate_trains_and_unlearns_with_a_user_bottom_model() -> None:
    before = user_models.Tower.built
    result = run_vfl(*QUICK, "--model", f"{MOD}:Tower")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert user_models.Tower.built - before >= 2  # both passive parties (and their retrains)
    assert report["original"]["forget_acc"] > 0.3  # it learned class 3 in one epoch ...
    assert report["unlearned"]["forget_acc"] <= 0.02  # ... and LUV forgot it


def test_each_party_its_own_model_and_a_user_top_model() -> None:
    towers, tops = user_models.Tower.built, user_models.Top.built
    result = run_vfl(*QUICK, "--model", f"{MOD}:Tower,mlp", "--top-model", f"{MOD}:Top")
    assert result.exit_code == 0, result.stderr
    assert user_models.Tower.built - towers >= 1 and user_models.Top.built - tops >= 1
    assert json.loads(result.stdout)["unlearned"]["forget_acc"] <= 0.02


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--model", "no_such_pkg.models:Tower"], "'no_such_pkg.models:Tower': cannot import"),
        (["--model", f"mlp,{MOD}:Nope"], f"'{MOD}:Nope': module {MOD} has no attribute 'Nope'"),
        (["--model", f"{MOD}:wrong_width"], "must map a [2, 1, 8, 4] batch to [2, 64]"),
        (["--model", f"{MOD}:bad_signature"], "bad_signature': building it failed (TypeError"),
        (["--model", "mlp,mlp,mlp"], "3 bottom models for 2 passive parties"),
        (["--top-model", f"{MOD}:top_too_wide"], "must map a [2, 128] batch to [2, 10]"),
        (["--top-model", "no_such_pkg:Top"], "top model 'no_such_pkg:Top': cannot import"),
    ],
)
def test_a_bad_model_is_one_line_and_exit_2_before_training(
    flags: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("training started with a bad model")

    monkeypatch.setattr(Coordinator, "train", no_training)
    result = run_vfl(*QUICK, *flags)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vfl: error: "), result.stderr
    assert message in lines[0]


@pytest.mark.parametrize(
    ("party", "model", "message"),
    [
        ("passive-0", "no_such_pkg:Tower", "bottom model 'no_such_pkg:Tower': cannot import"),
        ("passive-1", f"mlp,{MOD}:wrong_width", "wrong_width' must map a [2, 1, 8, 4] batch"),
    ],
)
def test_a_party_server_refuses_a_bad_model_in_one_line(
    party: str, model: str, message: str
) -> None:
    """``vfl serve passive`` takes its own entry of a per-party list, checked before serving."""
    serve = ["serve", "passive", "--party-id", party, "--insecure", "--listen", "127.0.0.1:0"]
    result = run_vfl(*serve, "--model", model)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if not line.startswith("vfl: warning:")]
    assert len(errors) == 1 and errors[0].startswith("vfl: error: "), result.stderr
    assert message in errors[0]
