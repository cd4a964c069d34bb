"""A method's own settings (luv-hidden's HidingConfig) reach it from the public config."""

from __future__ import annotations

import json

import pytest

from vfl.errors import ConfigError
from vfl.simulation import SimulationConfig, run_simulation
from vfl.unlearning.hiding import HiddenLUV, HidingConfig

QUICK = {"compare_retrain": False, "train": {"epochs": 1}, "unlearn": {"epochs": 1}}


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[HidingConfig]:
    """The config of every HiddenLUV that runs (and it still runs)."""
    configs: list[HidingConfig] = []
    run = HiddenLUV.run

    def recording(self: HiddenLUV, ctx: object) -> None:
        configs.append(self.config)
        run(self, ctx)  # type: ignore[arg-type]

    monkeypatch.setattr(HiddenLUV, "run", recording)
    return configs


def test_method_options_in_a_json_config_reach_the_method(seen: list[HidingConfig]) -> None:
    options = {"margin": 3.5, "equalize": "norm", "update": {"lr": 0.002}}
    text = json.dumps({"method": "luv-hidden", "method_options": options, **QUICK})
    report = run_simulation(SimulationConfig.model_validate_json(text))
    (config,) = seen
    assert config.margin == 3.5 and config.equalize == "norm" and config.update.lr == 0.002
    assert config.retain_weight == HidingConfig().retain_weight  # the rest keep their defaults
    assert report["method_options"] == options


@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        ("luv-hidden", {"margn": 3}, "unknown option 'margn' for method 'luv-hidden'; choose from"),
        ("luv-hidden", {"equalize": "loud"}, "invalid option 'equalize' for method 'luv-hidden'"),
        ("luv", {"margin": 3}, "method 'luv' takes no options"),
    ],
)
def test_bad_method_options_fail_before_any_training(
    seen: list[HidingConfig], method: str, options: dict, message: str
) -> None:
    cfg = SimulationConfig.model_validate({"method": method, "method_options": options, **QUICK})
    with pytest.raises(ConfigError, match=message):
        run_simulation(cfg)
    assert seen == []
