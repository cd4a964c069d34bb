"""The Flower ServerApp that ``flwr run`` starts on an existing Flower deployment.

Its main function runs one whole :func:`~vfl.simulation.run_simulation` --
train, unlearn, evaluate -- on the grid Flower hands it, and prints (and
optionally writes) the report. It sits beside :mod:`vfl.simulation`, not in
:mod:`vfl.flower`, because it is a layer above the transport: the transport
package only opens a federation on a grid (:mod:`vfl.flower.grid`) and must not
import simulations (the import-linter contracts in pyproject.toml check that).
The Flower App's ``pyproject.toml`` (``vfl/flower/app``) names it as
``vfl.flower_serverapp:app``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

from vfl.atomic import check_writable, write_atomic
from vfl.coordinator import Coordinator
from vfl.data.base import Dataset
from vfl.federation import FederationSpec
from vfl.flower.grid import ActiveKeys, open_grid_federation
from vfl.progress import ProgressEvent
from vfl.simulation import SimulationConfig, run_simulation

__all__ = ["app"]

app = ServerApp()


def _print_progress(event: ProgressEvent) -> None:
    if event.metrics:
        print(f"[vfl] {event.phase} {event.step}/{event.total} {event.metrics}", flush=True)


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Run config: ``simulation`` (SimulationConfig JSON), ``key-dir``, optional ``report``."""
    cfg = SimulationConfig.model_validate_json(str(context.run_config["simulation"]))
    spec = cfg.federation
    keys = ActiveKeys.load(Path(str(context.run_config["key-dir"])), spec.party_ids())
    out = str(context.run_config.get("report", ""))
    if out:
        check_writable(Path(out))  # before the run, not after it

    @contextmanager
    def this_grid(spec: FederationSpec, dataset: Dataset) -> Iterator[Coordinator]:
        with open_grid_federation(grid, context.run_id, spec, dataset, keys) as co:
            yield co

    report = run_simulation(
        cfg.model_copy(update={"transport": "flower"}),
        progress=_print_progress,
        open_with=this_grid,
    )
    text = json.dumps(report, indent=2, default=str)
    if out:
        write_atomic(Path(out), lambda fh: fh.write(text.encode()))
    print(text, flush=True)
