"""The ServerApp for ``flwr run``: its run config, its report, and a bad report path.

The simulation itself is replaced here (a real one needs a Flower deployment:
see test_flower_integration.py); what is checked is the ServerApp's own work.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from vfl import flower_serverapp
from vfl.errors import ConfigError
from vfl.flower.crypto import generate_keypair
from vfl.flower.grid import ACTIVE
from vfl.simulation import SimulationConfig

REPORT = {"dataset": "digits", "speedup": 2.5}


def _context(tmp_path: Path, report: Path | str) -> SimpleNamespace:
    cfg = SimulationConfig()
    for name in [ACTIVE, *cfg.federation.party_ids()]:
        generate_keypair(tmp_path / "keys", name)
    run_config = {
        "simulation": cfg.model_dump_json(),
        "key-dir": str(tmp_path / "keys"),
        "report": str(report),
    }
    return SimpleNamespace(run_config=run_config, run_id=7)


@pytest.fixture
def simulations(monkeypatch: pytest.MonkeyPatch) -> list[tuple[SimulationConfig, bool]]:
    """``(config, whether it was given the grid to open)`` per run; each gets REPORT."""
    ran: list[tuple[SimulationConfig, bool]] = []

    def fake_run(cfg: SimulationConfig, **kwargs: Any) -> dict[str, Any]:
        ran.append((cfg, kwargs.get("open_with") is not None))
        return REPORT

    monkeypatch.setattr(flower_serverapp, "run_simulation", fake_run)
    return ran


def test_main_runs_the_configured_simulation_on_flower_and_writes_its_report(
    tmp_path: Path, simulations: list[tuple[SimulationConfig, bool]]
) -> None:
    out = tmp_path / "report.json"
    flower_serverapp.main(None, _context(tmp_path, out))  # type: ignore[arg-type]
    assert [(cfg.transport, on_grid) for cfg, on_grid in simulations] == [("flower", True)]
    assert json.loads(out.read_text()) == REPORT


def test_an_unwritable_report_path_fails_before_the_run(
    tmp_path: Path, simulations: list[tuple[SimulationConfig, bool]]
) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        flower_serverapp.main(None, _context(tmp_path, tmp_path / "no-dir" / "r.json"))  # type: ignore[arg-type]
    assert simulations == []
