"""Options shared by several commands, declared once so their names and help agree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vfl.data import dataset_names
from vfl.transport import transport_names
from vfl.unlearning import method_names

__all__ = [
    "DataDirOpt",
    "DatasetOpt",
    "EpochsOpt",
    "JsonOpt",
    "MethodOpt",
    "PartiesOpt",
    "QuietOpt",
    "SeedOpt",
    "TransportOpt",
    "UnlearnClassOpt",
]

DatasetOpt = Annotated[str, typer.Option(help=f"Dataset: {', '.join(dataset_names())}.")]
DataDirOpt = Annotated[
    Path | None, typer.Option(help="Folder with the dataset's files (mnist, cifar10, csv).")
]
PartiesOpt = Annotated[int, typer.Option(help="Number of passive parties (1-8).")]
UnlearnClassOpt = Annotated[
    list[int] | None, typer.Option("--unlearn-class", help="Class to forget; repeat for several.")
]
MethodOpt = Annotated[str, typer.Option(help=f"Unlearning method: {', '.join(method_names())}.")]
TransportOpt = Annotated[
    str, typer.Option(help=f"How parties talk: {', '.join(transport_names())}.")
]
SeedOpt = Annotated[int, typer.Option(help="Seed for data split, models and sampling.")]
EpochsOpt = Annotated[
    int | None, typer.Option(help="Training epochs (default: from dataset size).")
]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the report as JSON here.")]
QuietOpt = Annotated[bool, typer.Option(help="No progress bars.")]
