"""``vfl audit``: attack a federation from a passive party's seat, with and without defenses.

The audit machinery (torch, scikit-learn) is imported when the command runs, so
``vfl --help`` stays fast; the help reads only torch-free registries.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from vfl.audit.config import DefenseConfig
from vfl.audit.registry import ATTACKS
from vfl.cli.errors import friendly_errors
from vfl.cli.options import (
    NOISE_DEFAULT,
    ClipOpt,
    CompareRetrainOpt,
    DataDirOpt,
    DatasetOpt,
    DefenseOpt,
    EpochsOpt,
    JsonOpt,
    MethodOptionOpt,
    NoiseOpt,
    PartiesOpt,
    QuietOpt,
    SeedOpt,
    TransportOpt,
    UnlearnClassOpt,
    parse_method_options,
)
from vfl.cli.render import progress_bars, results_console
from vfl.report import check_output, is_stdout, write_json
from vfl.unlearning import UnlearnConfig, method_names

__all__ = ["audit", "audit_table"]


UTILITY_ROWS = (
    ("original_retain_acc", "retained acc (original)", ""),
    ("retain_acc", "retained acc (unlearned)", "higher"),
    ("forget_acc", "forgotten acc (unlearned)", "lower"),
    ("retrained_retain_acc", "retained acc (retrained)", ""),
)
"""The utility rows of the table: report key, label, which way is better (empty: a reference)."""


def _cell(value: float | None, percent: bool = False) -> str:
    if value is None or value != value:
        return "-"
    return f"{100 * value:.2f} %" if percent else f"{value:.3f}"


def audit_table(report: dict[str, Any]) -> Table:
    """One row per (attack, metric), then the utility rows; undefended vs defended."""
    defended = report["utility"]["defended"]
    table = Table(
        title=f"audit · {report['dataset']} · forget {report['classes_forgotten']} · "
        f"defenses {', '.join(report['defenses']) or 'none'}"
    )
    for col in ("attack", "metric", "better", "without defense", "with defense"):
        table.add_column(col, justify="right" if col.endswith("defense") else "left")
    for row in report["attacks"]:
        table.add_row(
            row["name"],
            row["metric"],
            row.get("better", ""),
            _cell(row["undefended"]),
            _cell(row["defended"]),
        )
    table.add_section()
    undefended = report["utility"]["undefended"]
    table.add_row(
        "utility", "method", "", undefended["method"], defended["method"] if defended else "-"
    )
    for key, label, better in UTILITY_ROWS:
        if key in undefended:
            table.add_row(
                "utility",
                label,
                better,
                _cell(undefended[key], True),
                _cell(defended.get(key) if defended else None, True),
            )
    return table


@friendly_errors
def audit(
    dataset: DatasetOpt = "digits",
    data_dir: DataDirOpt = None,
    parties: PartiesOpt = 2,
    unlearn_class: UnlearnClassOpt = None,
    method: Annotated[
        str, typer.Option(help=f"Undefended unlearning method: {', '.join(method_names())}.")
    ] = "luv",
    method_option: MethodOptionOpt = None,
    defense: DefenseOpt = None,
    noise: NoiseOpt = NOISE_DEFAULT,
    clip: ClipOpt = None,
    attack: Annotated[
        list[str] | None,
        typer.Option("--attack", help=f"Run only these attacks: {', '.join(ATTACKS.names())}."),
    ] = None,
    attacker: Annotated[int, typer.Option(help="Index of the attacking passive party.")] = 0,
    aux_per_class: Annotated[
        int, typer.Option(help="Public labelled samples per class the attacker knows.")
    ] = 10,
    compare_retrain: CompareRetrainOpt = True,
    transport: TransportOpt = "inprocess",
    seed: SeedOpt = 0,
    epochs: EpochsOpt = None,
    json_out: JsonOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Train, unlearn and attack from a passive party's seat; compare with defenses on."""
    from vfl.audit.run import AuditConfig, run_audit
    from vfl.coordinator import TrainConfig
    from vfl.federation import FederationSpec
    from vfl.simulation import default_epochs

    check_output(json_out)
    spec = FederationSpec(dataset=dataset, data_dir=data_dir, parties=parties, seed=seed)
    data = spec.load()
    cfg = AuditConfig(
        federation=spec,
        classes=unlearn_class or [3],
        method=method,
        method_options=parse_method_options(method_option),
        defenses=defense or [],
        defense=DefenseConfig(noise_multiplier=noise, clip_norm=clip, seed=seed),
        attacks=attack or None,
        attacker=attacker,
        aux_per_class=aux_per_class,
        compare_retrain=compare_retrain,
        transport=transport,
        train=TrainConfig(epochs=epochs or default_epochs(data.n_train)),
        unlearn=UnlearnConfig(),
    )
    with progress_bars(enabled=not quiet) as progress:
        report = run_audit(cfg, data, progress)
    results_console(is_stdout(json_out)).print(audit_table(report))
    if json_out is not None:
        write_json(json_out, report)
