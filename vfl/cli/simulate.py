"""``vfl simulate``: train a federation, unlearn classes, compare with retraining.

torch is imported when the command runs, not when ``vfl --help`` builds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vfl.cli.errors import friendly_errors
from vfl.cli.options import (
    DataDirOpt,
    DatasetOpt,
    EpochsOpt,
    JsonOpt,
    MethodOpt,
    MethodOptionOpt,
    ModelOpt,
    PartiesOpt,
    QuietOpt,
    SeedOpt,
    TopModelOpt,
    TransportOpt,
    UnlearnClassOpt,
    parse_method_options,
    read_ids,
)
from vfl.cli.render import (
    console,
    evaluation_table,
    progress_bars,
    results_console,
    results_table,
    target_line,
)
from vfl.errors import ConfigError
from vfl.report import check_output, is_stdout, plot_per_class, write_json
from vfl.unlearning import UnlearnConfig

__all__ = ["simulate"]


@friendly_errors
def simulate(
    dataset: DatasetOpt = "digits",
    data_dir: DataDirOpt = None,
    parties: PartiesOpt = 2,
    model: ModelOpt = "auto",
    top_model: TopModelOpt = None,
    unlearn_class: UnlearnClassOpt = None,
    method: MethodOpt = "luv",
    method_option: MethodOptionOpt = None,
    compare_retrain: Annotated[
        bool | None,
        typer.Option(
            "--compare-retrain/--no-compare-retrain",
            help="Also retrain from scratch: the baseline to compare with (default: on; "
            "off on Flower).",
        ),
    ] = None,
    transport: TransportOpt = "inprocess",
    seed: SeedOpt = 0,
    epochs: EpochsOpt = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Training batch size (default: 64; on Flower chosen for it).")
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option(
            help="Training learning rate (Adam; default: 0.001; on Flower chosen for it)."
        ),
    ] = None,
    forget_samples: Annotated[
        int, typer.Option(help="Few-shot forget samples per class.")
    ] = UnlearnConfig().forget_samples,
    recovery_samples: Annotated[
        int, typer.Option(help="Recovery samples per retained class.")
    ] = UnlearnConfig().recovery_per_class,
    unlearn_epochs: Annotated[
        int, typer.Option(help="Upper bound on unlearning epochs.")
    ] = UnlearnConfig().epochs,
    unlearn_lr: Annotated[
        float, typer.Option(help="Unlearning learning rate (Adam).")
    ] = UnlearnConfig().lr,
    forget_random: Annotated[
        int,
        typer.Option(
            help="Sample-level: forget the labels of this many random training samples "
            "(instead of --unlearn-class); --method luv means luv-samples.",
        ),
    ] = 0,
    forget_ids: Annotated[
        Path | None,
        typer.Option(
            help="Sample-level: forget the labels of the training samples listed here, one "
            "ID per line (the federation's sample IDs).",
        ),
    ] = None,
    json_out: JsonOpt = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a per-class accuracy chart (PNG) here.")
    ] = None,
    quiet: QuietOpt = False,
    eval_level: Annotated[
        str,
        typer.Option(
            "--eval",
            help="full: also ToW, relearn time, forgetting depth per layer and U-LiRA with "
            "shadow federations (docs/evaluation.md); default: the table above only.",
        ),
    ] = "default",
    shadows: Annotated[
        int, typer.Option(help="--eval full: shadow federations for U-LiRA (even, >= 2).")
    ] = 16,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="--eval full: where shadows are cached (default: ~/.cache/vfl)."),
    ] = None,
) -> None:
    """Train a VFL model, unlearn classes, evaluate, and compare with retraining.

    On --transport flower every training step is a Flower message (about a
    second each), so the training flags left unset are chosen for Flower
    (digits: --epochs 8 --batch-size 128 --lr 0.005 --no-compare-retrain) and
    printed.
    """
    from vfl.coordinator import TrainConfig
    from vfl.evaluation import EvalConfig
    from vfl.federation import FederationSpec
    from vfl.models.bottom import BottomModelConfig
    from vfl.party.optim import UpdateConfig
    from vfl.simulation import SimulationConfig, default_epochs, run_simulation

    for out in (json_out, plot):
        check_output(out)
    ids = read_ids(forget_ids, "--forget-ids") if forget_ids is not None else []
    sample_level = bool(ids) or forget_random > 0
    if sample_level and (unlearn_class or plot is not None):
        raise ConfigError(
            "--forget-random/--forget-ids forget samples: drop --unlearn-class and --plot "
            "(the per-class chart is for class requests)"
        )
    spec = FederationSpec(
        dataset=dataset,
        data_dir=data_dir,
        parties=parties,
        model=BottomModelConfig(name=model),
        top_model=top_model,
        seed=seed,
    )
    data = spec.load()
    given = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "compare_retrain": compare_retrain,
    }
    if transport == "flower":
        given = _flower_defaults(given, data.n_train)
    epochs, batch_size, lr, compare_retrain = given.values()
    cfg = SimulationConfig(
        federation=spec,
        classes=unlearn_class or [3],
        method=method,
        method_options=parse_method_options(method_option),
        compare_retrain=True if compare_retrain is None else compare_retrain,
        transport=transport,
        train=TrainConfig(
            epochs=epochs or default_epochs(data.n_train),
            batch_size=64 if batch_size is None else batch_size,
            update=UpdateConfig(lr=1e-3 if lr is None else lr),
        ),
        unlearn=UnlearnConfig(
            forget_samples=forget_samples,
            recovery_per_class=recovery_samples,
            epochs=unlearn_epochs,
            lr=unlearn_lr,
        ),
        forget_ids=ids,
        forget_random=forget_random,
        evaluation=EvalConfig(level=eval_level, shadows=shadows, cache_dir=cache_dir),
    )
    with progress_bars(enabled=not quiet) as progress:
        report = run_simulation(cfg, data, progress)
    shown = results_console(is_stdout(json_out))
    shown.print(results_table(report))
    if "evaluation" in report:
        shown.print(evaluation_table(report))
    if (line := target_line(report["unlearned"])) is not None:
        shown.print(line)
    if json_out is not None:
        write_json(json_out, report)
    if plot is not None:
        plot_per_class(plot, report)


def _flower_defaults(given: dict[str, Any], n_train: int) -> dict[str, Any]:
    """Fill the unset training flags from :func:`vfl.flower.schedule.flower_schedule`; say so."""
    from vfl.flower.schedule import flower_schedule

    chosen = {k: v for k, v in flower_schedule(n_train).items() if given[k] is None}
    if chosen:
        flags = " ".join(
            (
                f"--{'' if v else 'no-'}compare-retrain"
                if k == "compare_retrain"
                else f"--{k.replace('_', '-')} {v}"
            )
            for k, v in chosen.items()
        )
        console.print(
            f"flower: each training step is a Flower message (about a second), so the unset "
            f"flags were chosen for it: {flags} (set them to override)"
        )
    return given | chosen
