"""Options shared by several commands, declared once so their names and help agree.

Every command that talks to a running coordinator (``train``, ``unlearn``,
``requests``, ``status``) takes the same four connection options; decorating it
with :func:`with_coordinator` adds them and hands it an open client, so no
command lists them. ``VFL_COORDINATOR``, ``VFL_CERTS`` and ``VFL_IDENTITY`` can
replace the flags.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from vfl.audit.config import DefenseConfig
from vfl.audit.registry import DEFENSES
from vfl.data import dataset_names
from vfl.errors import ConfigError
from vfl.grpc.operator import CoordinatorClient
from vfl.grpc.tls import TLSConfig
from vfl.models.registry import bottom_model_names
from vfl.transport import transport_names
from vfl.unlearning import method_names

__all__ = [
    "DEFAULT_COORDINATOR",
    "NOISE_DEFAULT",
    "CertsOpt",
    "ClipOpt",
    "CompareRetrainOpt",
    "CoordinatorOpt",
    "DataDirOpt",
    "DatasetOpt",
    "DefenseOpt",
    "EpochsOpt",
    "IdempotencyKeyOpt",
    "IdentityOpt",
    "JsonOpt",
    "MethodOpt",
    "MethodOptionOpt",
    "ModelOpt",
    "NoiseOpt",
    "OperatorInsecureOpt",
    "PartiesOpt",
    "PrintJsonOpt",
    "QuietOpt",
    "RequestIdArg",
    "SeedOpt",
    "TopModelOpt",
    "TransportOpt",
    "UnlearnClassOpt",
    "WaitOpt",
    "parse_method_options",
    "with_coordinator",
]

DatasetOpt = Annotated[str, typer.Option(help=f"Dataset: {', '.join(dataset_names())}.")]
DataDirOpt = Annotated[
    Path | None, typer.Option(help="Folder with the dataset's files (mnist, cifar10, csv).")
]
PartiesOpt = Annotated[int, typer.Option(help="Number of passive parties (1-8).")]
UnlearnClassOpt = Annotated[
    list[int] | None,
    typer.Option(
        "--unlearn-class",
        "--class",
        help="Class to forget (index); repeat for several. Default: 3, or the last class "
        "when there are fewer (breast-cancer: 1).",
    ),
]
MethodOpt = Annotated[str, typer.Option(help=f"Unlearning method: {', '.join(method_names())}.")]
MethodOptionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--method-option",
        help="KEY=VALUE: a setting of the method (e.g. luv-hidden's margin=3); repeat for "
        "several. VALUE is read as JSON when it parses, else as a string.",
    ),
]
ModelOpt = Annotated[
    str,
    typer.Option(
        help=f"Bottom model: {', '.join(bottom_model_names())}, or your own as module:attr "
        "(e.g. my_pkg.models:Tower); comma-separated for one per passive party (mlp,cnn)."
    ),
]
DefenseOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--defense",
        help=f"Gradient defense; repeat to combine: {', '.join(DEFENSES.names())} (docs/audit.md).",
    ),
]
NoiseOpt = Annotated[
    float, typer.Option(help="Noise multiplier for --defense noise (noise norm / clip norm).")
]
NOISE_DEFAULT = DefenseConfig().noise_multiplier
ClipOpt = Annotated[
    float | None,
    typer.Option(help="Clip norm for --defense noise (default: batch median gradient norm)."),
]
TopModelOpt = Annotated[
    str | None,
    typer.Option(
        help="Your own top model as module:attr, built as attr(in_features, n_classes) "
        "(default: the built-in MLP)."
    ),
]
TransportOpt = Annotated[
    str, typer.Option(help=f"How parties talk: {', '.join(transport_names())}.")
]
SeedOpt = Annotated[int, typer.Option(help="Seed for data split, models and sampling.")]
EpochsOpt = Annotated[
    int | None,
    typer.Option(
        help="Training epochs (default: about 50k sample passes, 3-40: digits 37, MNIST 3; "
        "`vfl train` adds 5 to a live model instead)."
    ),
]
JsonOpt = Annotated[
    Path | None,
    typer.Option(
        "--json", help="Write the report as JSON here (-: stdout, and the table goes to stderr)."
    ),
]
CompareRetrainOpt = Annotated[
    bool, typer.Option(help="Also retrain from scratch: the baseline to compare with.")
]
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


def parse_method_options(pairs: list[str] | None) -> dict[str, Any]:
    """``["margin=3", "equalize=norm"]`` -> ``{"margin": 3, "equalize": "norm"}``."""
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--method-option {pair!r}: write KEY=VALUE")
        if key in options:
            raise ConfigError(f"--method-option {key!r} is given twice; give each once")
        try:
            options[key] = json.loads(text)
        except json.JSONDecodeError:
            options[key] = text
    return options


_CONNECTION = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=option)
    for name, option, default in (
        ("coordinator", CoordinatorOpt, DEFAULT_COORDINATOR),
        ("certs", CertsOpt, None),
        ("identity", IdentityOpt, ""),
        ("insecure", OperatorInsecureOpt, False),
    )
]


def with_coordinator(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give ``command`` the connection options and call it with ``client`` open.

    ``command`` takes ``client: CoordinatorClient`` instead of the four
    options; Typer sees the options through the wrapper's signature. Put
    ``@friendly_errors`` above it, so a bad certificate folder is one line too.
    """
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "client"]

    @functools.wraps(command)
    def connected(
        *args: Any, coordinator: str, certs: Path | None, identity: str, insecure: bool, **kw: Any
    ) -> Any:
        tls = TLSConfig(certs=certs, identity=identity, insecure=insecure)
        with CoordinatorClient(coordinator, tls) as client:
            return command(*args, client=client, **kw)

    connected.__signature__ = signature.replace(parameters=[*own, *_CONNECTION])  # type: ignore[attr-defined]
    connected.__annotations__ = {p.name: p.annotation for p in [*own, *_CONNECTION]}
    return connected


def read_ids(path: Path, flag: str = "--ids") -> list[str]:
    """An ID list file (``vfl predict --ids``, ``--forget-ids``): one ID per line, blank
    lines skipped, at least one; a bad file is one error naming the flag."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{flag} {path}: cannot read it ({exc})") from None
    ids = [line.strip() for line in text.splitlines() if line.strip()]
    if not ids:
        raise ConfigError(f"{flag} {path}: no IDs in it (one ID per line)")
    return ids
