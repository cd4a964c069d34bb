"""``vfl simulate``: train a federation, unlearn classes, compare with retraining.

torch is imported when the command runs, not when ``vfl --help`` builds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from vfl.cli.config import CommandSettings, settings_command
from vfl.cli.errors import friendly_errors
from vfl.cli.options import (
    NOISE_DEFAULT,
    ClipOpt,
    DataDirOpt,
    DatasetOpt,
    DefenseOpt,
    EpochsOpt,
    JsonOpt,
    MethodOpt,
    MethodOptionOpt,
    ModelOpt,
    NoiseOpt,
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
from vfl.report import check_output, check_plotting, is_stdout, plot_per_class, write_json
from vfl.unlearning import UnlearnConfig

if TYPE_CHECKING:
    from vfl.data.base import Dataset
    from vfl.simulation import SimulationConfig

__all__ = ["SimulateSettings", "simulate", "simulation_config"]


class SimulateSettings(CommandSettings):
    """Every option of ``vfl simulate``: a flag, a key of ``--config`` and a variable.

    ``None`` means "chosen when it runs" (from the data, or for Flower); the
    run itself is described by the :class:`~vfl.simulation.SimulationConfig`
    these settings build (:func:`simulation_config`).
    """

    model_config = SettingsConfigDict(env_prefix="VFL_SIMULATE_")

    dataset: DatasetOpt = "digits"
    data_dir: DataDirOpt = None
    parties: PartiesOpt = 2
    model: ModelOpt = "auto"
    top_model: TopModelOpt = None
    unlearn_class: UnlearnClassOpt = None
    method: MethodOpt = "luv"
    method_option: MethodOptionOpt = None
    compare_retrain: Annotated[
        bool | None,
        typer.Option(
            "--compare-retrain/--no-compare-retrain",
            help="Also retrain from scratch: the baseline to compare with (default: on; "
            "off on Flower).",
        ),
    ] = None
    transport: TransportOpt = "inprocess"
    seed: SeedOpt = 0
    epochs: EpochsOpt = None
    batch_size: Annotated[
        int | None, typer.Option(help="Training batch size (default: 64; on Flower chosen for it).")
    ] = None
    lr: Annotated[
        float | None,
        typer.Option(
            help="Training learning rate (Adam; default: 0.001; on Flower chosen for it)."
        ),
    ] = None
    forget_samples: Annotated[int, typer.Option(help="Few-shot forget samples per class.")] = (
        UnlearnConfig().forget_samples
    )
    recovery_samples: Annotated[int, typer.Option(help="Recovery samples per retained class.")] = (
        UnlearnConfig().recovery_per_class
    )
    unlearn_epochs: Annotated[int, typer.Option(help="Upper bound on unlearning epochs.")] = (
        UnlearnConfig().epochs
    )
    unlearn_lr: Annotated[float, typer.Option(help="Unlearning learning rate (Adam).")] = (
        UnlearnConfig().lr
    )
    forget_random: Annotated[
        int,
        typer.Option(
            help="Sample-level: forget the labels of this many random training samples "
            "(instead of --unlearn-class); --method luv means luv-samples.",
        ),
    ] = 0
    forget_ids: Annotated[
        Path | None,
        typer.Option(
            help="Sample-level: forget the labels of the training samples listed here, one "
            "ID per line (the federation's sample IDs).",
        ),
    ] = None
    json_out: JsonOpt = Field(None, alias="json")
    plot: Annotated[
        Path | None, typer.Option(help="Write a per-class accuracy chart (PNG) here.")
    ] = None
    quiet: QuietOpt = False
    eval_level: Annotated[
        str,
        typer.Option(
            "--eval",
            help="full: also ToW, relearn time, forgetting depth per layer and U-LiRA with "
            "shadow federations (docs/evaluation.md); default: the table above only.",
        ),
    ] = Field("default", alias="eval")
    shadows: Annotated[
        int, typer.Option(help="--eval full: shadow federations for U-LiRA (even, >= 2).")
    ] = 16
    defense: DefenseOpt = None
    noise: NoiseOpt = NOISE_DEFAULT
    clip: ClipOpt = None
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="--eval full: where shadows are cached (default: ~/.cache/vfl)."),
    ] = None


@friendly_errors
@settings_command(SimulateSettings, "simulate")
def simulate(settings: SimulateSettings) -> None:
    """Train a VFL model, unlearn classes, evaluate, and compare with retraining.

    On --transport flower every training step is a Flower message (about a
    second each), so the training flags left unset are chosen for Flower
    (digits: --epochs 8 --batch-size 128 --lr 0.005 --no-compare-retrain) and
    printed.
    """
    from vfl.simulation import run_simulation

    s = settings
    for out in (s.json_out, s.plot):
        check_output(out)
    if s.plot is not None:
        check_plotting()
    ids = read_ids(s.forget_ids, "--forget-ids") if s.forget_ids is not None else []
    if (bool(ids) or s.forget_random > 0) and (s.unlearn_class or s.plot is not None):
        raise ConfigError(
            "--forget-random/--forget-ids forget samples: drop --unlearn-class and --plot "
            "(the per-class chart is for class requests)"
        )
    data, cfg = simulation_config(s, ids)
    with progress_bars(enabled=not s.quiet) as progress:
        report = run_simulation(cfg, data, progress)
    shown = results_console(is_stdout(s.json_out))
    shown.print(results_table(report))
    if "evaluation" in report:
        shown.print(evaluation_table(report))
    if (line := target_line(report["unlearned"])) is not None:
        shown.print(line)
    if s.json_out is not None:
        write_json(s.json_out, report)
    if s.plot is not None:
        plot_per_class(s.plot, report)


def simulation_config(
    s: SimulateSettings, forget_ids: list[str]
) -> tuple[Dataset, SimulationConfig]:
    """The dataset and the run the settings describe, with the unset options chosen for it."""
    from vfl.audit.config import DefenseConfig
    from vfl.coordinator import TrainConfig
    from vfl.evaluation import EvalConfig
    from vfl.federation import FederationSpec
    from vfl.models.bottom import BottomModelConfig
    from vfl.party.optim import UpdateConfig
    from vfl.simulation import SimulationConfig, default_classes, default_epochs

    spec = FederationSpec(
        dataset=s.dataset,
        data_dir=s.data_dir,
        parties=s.parties,
        model=BottomModelConfig(name=s.model),
        top_model=s.top_model,
        seed=s.seed,
    )
    data = spec.load()
    given = {
        "epochs": s.epochs,
        "batch_size": s.batch_size,
        "lr": s.lr,
        "compare_retrain": s.compare_retrain,
    }
    if s.transport == "flower":
        given = _flower_defaults(given, data.n_train)
    epochs, batch_size, lr, compare_retrain = given.values()
    cfg = SimulationConfig(
        federation=spec,
        classes=s.unlearn_class or default_classes(data.num_classes),
        method=s.method,
        method_options=parse_method_options(s.method_option),
        compare_retrain=True if compare_retrain is None else compare_retrain,
        transport=s.transport,
        train=TrainConfig(
            epochs=epochs or default_epochs(data.n_train),
            batch_size=64 if batch_size is None else batch_size,
            update=UpdateConfig(lr=1e-3 if lr is None else lr),
        ),
        unlearn=UnlearnConfig(
            forget_samples=s.forget_samples,
            recovery_per_class=s.recovery_samples,
            epochs=s.unlearn_epochs,
            lr=s.unlearn_lr,
        ),
        forget_ids=forget_ids,
        forget_random=s.forget_random,
        evaluation=EvalConfig(level=s.eval_level, shadows=s.shadows, cache_dir=s.cache_dir),
        defenses=s.defense or [],
        defense=DefenseConfig(noise_multiplier=s.noise, clip_norm=s.clip, seed=s.seed),
    )
    return data, cfg


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
