"""Options shared by several commands, declared once so their names and help agree.

The ``Operator*`` group is what every command talking to a running coordinator
takes (``train``, ``unlearn``, ``requests``, ``status``); ``VFL_COORDINATOR``,
``VFL_CERTS`` and ``VFL_IDENTITY`` can replace the flags.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vfl.data import dataset_names
from vfl.transport import transport_names
from vfl.unlearning import method_names

__all__ = [
    "DEFAULT_COORDINATOR",
    "CertsOpt",
    "CoordinatorOpt",
    "DataDirOpt",
    "DatasetOpt",
    "EpochsOpt",
    "IdempotencyKeyOpt",
    "IdentityOpt",
    "JsonOpt",
    "MethodOpt",
    "OperatorInsecureOpt",
    "PartiesOpt",
    "PrintJsonOpt",
    "QuietOpt",
    "RequestIdArg",
    "SeedOpt",
    "TransportOpt",
    "UnlearnClassOpt",
    "WaitOpt",
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

# Operator commands: how to reach the coordinator, and how to show what it says.
DEFAULT_COORDINATOR = "127.0.0.1:50050"
CoordinatorOpt = Annotated[
    str, typer.Option(envvar="VFL_COORDINATOR", help="HOST:PORT of the active party.")
]
CertsOpt = Annotated[
    Path | None, typer.Option(envvar="VFL_CERTS", help="Folder made by `vfl certs init`.")
]
IdentityOpt = Annotated[str, typer.Option(envvar="VFL_IDENTITY", help="Your operator identity.")]
OperatorInsecureOpt = Annotated[bool, typer.Option(help="Plaintext: local development only.")]
WaitOpt = Annotated[bool, typer.Option(help="Follow the request until it ends.")]
PrintJsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
IdempotencyKeyOpt = Annotated[
    str, typer.Option(help="Idempotency key: resubmitting returns the same request.")
]
RequestIdArg = Annotated[str, typer.Argument(help="The request id.")]
