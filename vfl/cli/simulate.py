"""``vfl simulate``: train a federation, unlearn classes, compare with retraining."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vfl.cli.errors import friendly_errors
from vfl.cli.render import console, progress_bars, results_table
from vfl.coordinator import TrainConfig
from vfl.federation import FederationSpec
from vfl.models.bottom import BottomModelConfig
from vfl.party.optim import UpdateConfig
from vfl.report import check_writable, plot_per_class, write_json
from vfl.simulation import SimulationConfig, default_epochs, run_simulation
from vfl.unlearning import UnlearnConfig, method_names

__all__ = ["simulate"]


@friendly_errors
def simulate(
    dataset: Annotated[
        str, typer.Option(help="digits, mnist, fashion-mnist, cifar10, wine, breast-cancer, csv")
    ] = "digits",
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder with the dataset's files (mnist, cifar10, csv).")
    ] = None,
    parties: Annotated[int, typer.Option(help="Number of passive parties (1-8).")] = 2,
    model: Annotated[str, typer.Option(help="Bottom model: auto, mlp or cnn.")] = "auto",
    unlearn_class: Annotated[
        list[int] | None,
        typer.Option("--unlearn-class", help="Class to forget; repeat for several."),
    ] = None,
    method: Annotated[
        str, typer.Option(help=f"Unlearning method: {', '.join(method_names())}.")
    ] = "luv",
    compare_retrain: Annotated[
        bool, typer.Option(help="Also retrain from scratch and compare.")
    ] = True,
    transport: Annotated[
        str,
        typer.Option(help="How parties talk: inprocess, grpc (local processes, mTLS) or flower."),
    ] = "inprocess",
    seed: Annotated[int, typer.Option(help="Seed for data split, models and sampling.")] = 0,
    epochs: Annotated[
        int | None, typer.Option(help="Training epochs (default: from dataset size).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Training batch size.")] = 64,
    lr: Annotated[float, typer.Option(help="Training learning rate (Adam).")] = 1e-3,
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
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the report as JSON here.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a per-class accuracy chart (PNG) here.")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Train a VFL model, unlearn classes, evaluate, and compare with retraining."""
    for out in (json_out, plot):
        if out is not None:
            check_writable(out)
    spec = FederationSpec(
        dataset=dataset,
        data_dir=data_dir,
        parties=parties,
        model=BottomModelConfig(name=model),
        seed=seed,
    )
    data = spec.load()
    cfg = SimulationConfig(
        federation=spec,
        classes=unlearn_class or [3],
        method=method,
        compare_retrain=compare_retrain,
        transport=transport,
        train=TrainConfig(
            epochs=epochs or default_epochs(data.n_train),
            batch_size=batch_size,
            update=UpdateConfig(lr=lr),
        ),
        unlearn=UnlearnConfig(
            forget_samples=forget_samples,
            recovery_per_class=recovery_samples,
            epochs=unlearn_epochs,
            lr=unlearn_lr,
        ),
    )
    with progress_bars(enabled=not quiet) as progress:
        report = run_simulation(cfg, data, progress)
    console.print(results_table(report))
    if json_out is not None:
        write_json(json_out, report)
    if plot is not None:
        plot_per_class(plot, report)
