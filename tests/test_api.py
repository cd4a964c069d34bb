"""The Python API: the example script runs, its numbers are `vfl simulate`'s, and it takes
the user's own models as factories."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
from torch import nn

import vfl
from tests.fixtures import user_models
from vfl.coordinator import TrainConfig
from vfl.errors import ConfigError
from vfl.federation import FederationSpec
from vfl.models.bottom import BottomModelConfig
from vfl.models.top import CustomTopModel
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


def test_api_takes_factories_one_per_party_and_a_top_model() -> None:
    def lean(feature_shape: tuple[int, ...], cfg: BottomModelConfig) -> nn.Module:
        return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(feature_shape), cfg.embed_dim))

    with vfl.Federation.simulated(
        "digits", parties=2, model=[user_models.Tower, lean], top_model=user_models.Top
    ) as fed:
        fed.train(epochs=2)
        first, second = fed.bottom_models
        assert isinstance(first, user_models.Tower) and isinstance(second[1], nn.Linear)
        assert isinstance(fed.top_model, CustomTopModel)
        assert isinstance(fed.top_model.net, user_models.Top)
        after = fed.unlearn([3])
    assert after["forget_acc"] <= 0.02 and after["retain_acc"] > 0.5


def test_a_factory_and_its_reference_train_the_same_federation() -> None:
    accuracies = []
    for model in (user_models.Tower, "tests.fixtures.user_models:Tower"):
        with vfl.Federation.simulated("digits", parties=2, seed=2, model=model) as fed:
            accuracies.append(fed.train(epochs=1).test_acc)
    assert accuracies[0] == accuracies[1]


def test_a_factory_cannot_cross_to_party_processes() -> None:
    opening = vfl.Federation.simulated("digits", model=user_models.tower, transport="grpc")
    with pytest.raises(ConfigError, match="grpc transport runs each party in its own process"):
        opening.__enter__()  # refused before any party process starts


def test_models_and_settings_are_keyword_only() -> None:
    with pytest.raises(TypeError, match="positional"):
        vfl.Federation.simulated("digits", 2).__enter__()  # type: ignore[misc]
