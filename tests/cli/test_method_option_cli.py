"""``--method-option KEY=VALUE`` sets a method's own settings, or fails in one line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from vfl.cli.app import app
from vfl.unlearning.hiding import HiddenLUV, HidingConfig

QUICK = ["simulate", "--quiet", "--epochs", "1", "--unlearn-epochs", "1", "--no-compare-retrain"]


def test_method_options_on_the_command_line_reach_the_method(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[HidingConfig] = []
    monkeypatch.setattr(HiddenLUV, "run", lambda self, ctx: seen.append(self.config))
    options = ["margin=3.5", "equalize=norm", 'update={"lr": 0.002}', "max_batch=64"]
    args = [*QUICK, "--method", "luv-hidden", *[a for o in options for a in ("--method-option", o)]]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (config,) = seen
    assert (config.margin, config.equalize, config.update.lr, config.max_batch) == (
        3.5,
        "norm",
        0.002,
        64,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "luv-hidden", "--method-option", "margn=3"], "unknown option 'margn'"),
        (["--method", "luv-hidden", "--method-option", "margin"], "write KEY=VALUE"),
        (["--method-option", "a=1", "--method-option", "a=2"], "'a' is given twice"),
        (["--model", "nope"], "unknown model 'nope'; choose one of: auto, cnn, mlp"),
    ],
)
def test_bad_method_options_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, [*QUICK, *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
