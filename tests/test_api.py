"""The Python API: the example script runs, and its numbers are `vfl simulate`'s."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import vfl
from vfl.coordinator import TrainConfig
from vfl.federation import FederationSpec
from vfl.simulation import SimulationConfig, run_simulation

ROOT = Path(__file__).resolve().parents[1]


def test_the_quickstart_example_forgets_class_3(capsys: object) -> None:
    spec = importlib.util.spec_from_file_location("quickstart", ROOT / "examples/quickstart.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(epochs=4)
    assert result["forget_acc"] == 0.0 and result["retain_acc"] > 0.85
    assert "class 3 accuracy after LUV     0.0%" in capsys.readouterr().out  # type: ignore[attr-defined]


def test_api_results_equal_simulate_for_the_same_settings() -> None:
    report = run_simulation(
        SimulationConfig(
            federation=FederationSpec(dataset="digits", parties=2, seed=1),
            classes=[5],
            compare_retrain=False,
            train=TrainConfig(epochs=3),
        )
    )
    with vfl.Federation.simulated("digits", parties=2, seed=1) as fed:
        trained = fed.train(epochs=3)
        unlearned = fed.unlearn([5])
        assert fed.class_names == tuple(str(c) for c in range(10))
        assert len(fed.bottom_models) == 2
    assert trained.test_acc == report["original"]["test_acc"]
    assert math.isnan(trained.mia)  # nothing forgotten yet: no one to call a member
    for key in ("test_acc", "retain_acc", "forget_acc", "mia", "per_class"):
        assert unlearned[key] == report["unlearned"][key], key
