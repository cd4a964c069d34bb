"""``vfl simulate --transport flower`` picks a Flower-sized schedule for the flags left unset.

The command runs in this process (``tests.fixtures.cli``) with ``run_simulation``
replaced by a recorder that runs a one-epoch in-process stand-in, so what is
checked is the configuration the command builds and what it prints, not a
Flower deployment (test_flower_integration.py runs one).
"""

from __future__ import annotations

from typing import Any

import pytest

import vfl.simulation
from tests.fixtures.cli import run_vfl
from vfl.flower.schedule import flower_schedule
from vfl.simulation import SimulationConfig


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[SimulationConfig]:
    configs: list[SimulationConfig] = []

    real = vfl.simulation.run_simulation

    def record(cfg: SimulationConfig, *args: Any, **kwargs: Any) -> dict[str, Any]:
        configs.append(cfg)
        quick = cfg.model_copy(
            update={
                "transport": "inprocess",
                "compare_retrain": False,
                "train": cfg.train.model_copy(update={"epochs": 1}),
                "unlearn": cfg.unlearn.model_copy(update={"epochs": 1}),
            }
        )
        return real(quick, *args, **kwargs)

    monkeypatch.setattr(vfl.simulation, "run_simulation", record)
    return configs


@pytest.mark.parametrize(
    ("flags", "built_as", "said"),
    [
        pytest.param(  # nothing set: the Flower schedule, printed
            ["--transport", "flower"],
            (8, 128, 0.005, False),
            "--epochs 8 --batch-size 128 --lr 0.005 --no-compare-retrain",
            id="flower-unset",
        ),
        pytest.param(  # what the user set wins; only the rest is chosen and printed
            ["--transport", "flower", "--epochs", "2", "--lr", "0.01", "--compare-retrain"],
            (2, 128, 0.01, True),
            "chosen for it: --batch-size 128 (set",
            id="flower-some-set",
        ),
        pytest.param(  # other transports: their defaults, nothing printed
            ["--transport", "inprocess"], (37, 64, 0.001, True), None, id="inprocess"
        ),
    ],
)
def test_the_flags_left_unset_are_chosen_per_transport(
    built: list[SimulationConfig],
    flags: list[str],
    built_as: tuple[int, int, float, bool],
    said: str | None,
) -> None:
    result = run_vfl("simulate", "--quiet", *flags)
    assert result.exit_code == 0, result.output
    (cfg,) = built
    train = cfg.train
    assert (train.epochs, train.batch_size, train.update.lr, cfg.compare_retrain) == built_as
    stderr = " ".join(result.stderr.split())  # the console wraps lines
    if said is None:
        assert "flower" not in stderr
    else:
        assert said in stderr


def test_larger_datasets_get_larger_batches_not_more_steps() -> None:
    for n_train in (1437, 60_000):
        schedule = flower_schedule(n_train)
        steps = schedule["epochs"] * -(-n_train // schedule["batch_size"])  # type: ignore[operator]
        assert steps <= 100
    assert flower_schedule(60_000)["batch_size"] == 5000
