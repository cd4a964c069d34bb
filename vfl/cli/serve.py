"""``vfl serve passive|active|health``: run a party process, or probe one.

Thin: options become a typed config and go to :mod:`parties`. Mutual TLS is
the default; ``--insecure`` is for local development and warns. The configs
that need torch are imported when a command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic_settings import SettingsConfigDict

from vfl.cli.config import CommandSettings, settings_command
from vfl.cli.errors import friendly_errors
from vfl.cli.logs import server_logging
from vfl.cli.options import NOISE_DEFAULT, ClipOpt, DefenseOpt, ModelOpt, NoiseOpt, TopModelOpt
from vfl.errors import ConfigError
from vfl.grpc.server import DEFAULT_MAX_MESSAGE_BYTES, NetworkConfig
from vfl.grpc.tls import TLSConfig
from vfl.unlearning import UnlearnConfig

if TYPE_CHECKING:
    from parties.active_server import ActiveServerConfig
    from vfl.coordinator import GradientTransform
    from vfl.federation import FederationSpec, PassiveData
    from vfl.grpc.client import CallDeadlines

__all__ = ["ActiveSettings", "PassiveSettings", "active_config", "serve_app"]

serve_app = typer.Typer(help="Run a party server (or probe one's health).", no_args_is_help=True)

Listen = Annotated[str, typer.Option(help="HOST:PORT to listen on (port 0: any free port).")]
Certs = Annotated[
    Path | None, typer.Option(envvar="VFL_CERTS", help="Folder made by `vfl certs init`.")
]
Identity = Annotated[
    str, typer.Option(envvar="VFL_IDENTITY", help="This process's certificate name.")
]
Insecure = Annotated[bool, typer.Option(help="Plaintext, no peer checks: local development only.")]
StateDir = Annotated[Path | None, typer.Option(help="Folder for committed checkpoints.")]
ReadyFile = Annotated[
    Path | None, typer.Option(help="Write the bound port here once serving.", hidden=True)
]
ExitWithParent = Annotated[bool, typer.Option(help="Exit when the parent dies.", hidden=True)]
MaxMessageMb = Annotated[int, typer.Option(help="Largest message accepted, in MiB.")]
Dataset = Annotated[str, typer.Option(help="Dataset every party agreed on.")]
DataDir = Annotated[Path | None, typer.Option(help="Folder with the dataset's files.")]
Parties = Annotated[int, typer.Option(help="Number of passive parties in the federation.")]
EmbedDim = Annotated[int, typer.Option(help="Embedding width of every bottom model.")]
Hidden = Annotated[int, typer.Option(help="Hidden width of the bottom MLP.")]
TopHidden = Annotated[int, typer.Option(help="Hidden width of the top model.")]
Seed = Annotated[int, typer.Option(help="Federation seed (data split and initial models).")]
IdColumn = Annotated[str, typer.Option(help="Name of the ID column in the party's file.")]
ScoreData = Annotated[
    Path | None,
    typer.Option(
        help="New samples to score, no labels: a CSV with the same columns as --data. "
        "`vfl align` aligns them too; `vfl predict` scores them; they are never trained on."
    ),
]


class _PartySettings(CommandSettings):
    """What every party server takes: the federation everyone agreed on, its network
    address and certificates, its state folder (``VFL_SERVE_<OPTION>`` variables)."""

    model_config = SettingsConfigDict(env_prefix="VFL_SERVE_")

    id_column: IdColumn = "id"
    categorical: Annotated[
        list[str] | None,
        typer.Option(help="A categorical column of --data (one-hot encoded); repeat."),
    ] = None
    dataset: Dataset = "digits"
    data_dir: DataDir = None
    model: ModelOpt = "auto"
    embed_dim: EmbedDim = 64
    hidden: Hidden = 128
    top_hidden: TopHidden = 128
    seed: Seed = 0
    state_dir: StateDir = None
    certs: Certs = None
    insecure: Insecure = False
    max_message_mb: MaxMessageMb = DEFAULT_MAX_MESSAGE_BYTES // 2**20

    def spec(self, parties: int, top_model: str | None = None) -> FederationSpec:
        from vfl.federation import FederationSpec
        from vfl.models.bottom import BottomModelConfig

        model = BottomModelConfig(name=self.model, embed_dim=self.embed_dim, hidden=self.hidden)
        return FederationSpec(
            dataset=self.dataset,
            data_dir=self.data_dir,
            parties=parties,
            model=model,
            top_hidden=self.top_hidden,
            top_model=top_model,
            seed=self.seed,
        )

    def network(self, listen: str, identity: str) -> NetworkConfig:
        return NetworkConfig(
            listen=listen,
            max_message_bytes=self.max_message_mb * 1024 * 1024,
            tls=TLSConfig(certs=self.certs, identity=identity, insecure=self.insecure),
        )

    def features(self, data: Path | None, score: Path | None) -> PassiveData | None:
        """A party's own feature file (``--data``), or None: its band of ``--dataset``."""
        from vfl.federation import PassiveData

        if data is None:
            return None
        return PassiveData(
            path=data, id_column=self.id_column, categorical=tuple(self.categorical or ()),
            score=score,
        )  # fmt: skip


class PassiveSettings(_PartySettings):
    """``vfl serve passive``: one party's columns and bottom model."""

    party_id: Annotated[str, typer.Option(help="This party's id, e.g. passive-0 (required).")]
    data: Annotated[
        Path | None,
        typer.Option(
            help="This party's own CSV: an ID column and its feature columns, nothing else. "
            "Without it the party takes its band of the built-in --dataset (demos)."
        ),
    ] = None
    score_data: ScoreData = None
    listen: Listen = "0.0.0.0:50051"
    parties: Parties = 2
    identity: Identity = ""


@serve_app.command("passive")
@friendly_errors
@settings_command(PassiveSettings, "serve passive")
def passive(
    settings: PassiveSettings,
    ready_file: ReadyFile = None,
    exit_with_parent: ExitWithParent = False,
) -> None:
    """Serve one passive party: its columns and bottom model, nothing else."""
    from parties.passive_server import PassiveServerConfig, serve

    server_logging()
    s = settings
    _needs_data(s.score_data, s.data, "--data")
    cfg = PassiveServerConfig(
        party_id=s.party_id,
        data=s.features(s.data, s.score_data),
        federation=s.spec(s.parties),
        network=s.network(s.listen, s.identity or s.party_id),
        state_dir=s.state_dir,
    )
    serve(cfg, ready_file, exit_with_parent)


def _needs_data(score_data: Path | None, data: Path | None, flag: str) -> None:
    if score_data is not None and data is None:
        raise ConfigError(f"--score-data adds rows to a party's own file: give {flag} too")


def _parse_deadlines(values: list[str]) -> CallDeadlines:
    """``--party-deadline KIND=SECONDS`` values over the defaults (a bad one is one line)."""
    from pydantic import ValidationError

    from vfl.grpc.client import CallDeadlines

    given: dict[str, float] = {}
    kinds = ", ".join(CallDeadlines.model_fields)
    for value in values:
        kind, sep, seconds = value.partition("=")
        if not sep or kind not in CallDeadlines.model_fields:
            raise ConfigError(
                f"--party-deadline {value!r}: expected KIND=SECONDS, KIND one of {kinds}"
            )
        try:
            given[kind] = float(seconds)
        except ValueError:
            raise ConfigError(f"--party-deadline {value!r}: {seconds!r} is not a number") from None
    try:
        return CallDeadlines(**given)
    except ValidationError as exc:
        raise ConfigError(f"--party-deadline: {exc.errors()[0]['msg']}") from None


def _parse_passive(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        party_id, sep, target = value.partition("=")
        if not sep or not party_id or ":" not in target:
            raise ConfigError(
                f"--passive {value!r}: expected PARTY=HOST:PORT, e.g. passive-0=h:50051"
            )
        out[party_id] = target
    return out


class ActiveSettings(_PartySettings):
    """``vfl serve active``: the label holder and the coordinator API."""

    passive: Annotated[
        list[str], typer.Option(help="PARTY=HOST:PORT of each passive party; repeat (required).")
    ]
    labels: Annotated[
        Path | None,
        typer.Option(
            help="The label file (CSV): an ID column, the label column, optionally a "
            "'split' column of train/test. Without it: the built-in --dataset's labels."
        ),
    ] = None
    data: Annotated[
        Path | None,
        typer.Option(
            help="The active party's own feature columns (CSV with the same ID column): "
            "a bottom model it runs itself. Optional."
        ),
    ] = None
    score_data: Annotated[
        Path | None,
        typer.Option(
            help="New samples to score (no labels): a CSV with the ID column, and the "
            "--data columns if the active party has its own. Aligned by `vfl align`, scored "
            "by `vfl predict`, never trained on."
        ),
    ] = None
    label_column: Annotated[str, typer.Option(help="Name of the label column.")] = "label"
    split_column: Annotated[
        str, typer.Option(help="Optional train/test column; absent: a seeded split.")
    ] = "split"
    listen: Listen = "0.0.0.0:50050"
    identity: Identity = "active"
    batch_size: Annotated[int, typer.Option(help="Training batch size.")] = 64
    lr: Annotated[float, typer.Option(help="Training learning rate (Adam).")] = 1e-3
    unlearn_epochs: Annotated[int, typer.Option(help="Upper bound on unlearning epochs.")] = (
        UnlearnConfig().epochs
    )
    connect_timeout: Annotated[float, typer.Option(help="Seconds to wait for parties.")] = 120.0
    top_model: TopModelOpt = None
    defense: DefenseOpt = None
    noise: NoiseOpt = NOISE_DEFAULT
    clip: ClipOpt = None
    party_deadline: Annotated[
        list[str] | None,
        typer.Option(
            help="KIND=SECONDS: how long one call to a passive party may take before it "
            "counts as hung; KIND is quick (5), step (60), disk (30) or align (600). Repeat."
        ),
    ] = None
    new_history: Annotated[
        bool,
        typer.Option(
            help="Start a new journal and signing key although the parties hold committed "
            "versions (moving a federation to a new coordinator on purpose)."
        ),
    ] = False


@serve_app.command("active")
@friendly_errors
@settings_command(ActiveSettings, "serve active")
def active(
    settings: ActiveSettings,
    ready_file: ReadyFile = None,
    exit_with_parent: ExitWithParent = False,
) -> None:
    """Serve the label holder and the coordinator API for operators."""
    from parties.active_server import serve

    server_logging()
    cfg, transforms = active_config(settings), active_defenses(settings)
    serve(cfg, ready_file, exit_with_parent, transforms)


def active_config(s: ActiveSettings) -> ActiveServerConfig:
    """The active server's config from its settings (bad ``--passive``/deadlines: one line)."""
    from parties.active_server import ActiveServerConfig
    from vfl.coordinator import TrainConfig
    from vfl.federation import ActiveData
    from vfl.party.optim import UpdateConfig

    targets = _parse_passive(s.passive)
    _needs_data(s.score_data, s.labels, "--labels")
    own = None if s.labels is None else ActiveData(
        labels=s.labels, id_column=s.id_column, label_column=s.label_column,
        split_column=s.split_column, score=s.score_data,
    )  # fmt: skip
    return ActiveServerConfig(
        federation=s.spec(len(targets), s.top_model),
        data=own,
        own_features=s.features(s.data, s.score_data),
        passive=targets,
        network=s.network(s.listen, s.identity),
        state_dir=s.state_dir,
        train=TrainConfig(batch_size=s.batch_size, update=UpdateConfig(lr=s.lr)),
        unlearn=UnlearnConfig(epochs=s.unlearn_epochs),
        connect_timeout=s.connect_timeout,
        deadlines=_parse_deadlines(s.party_deadline or []),
        new_history=s.new_history,
    )


def active_defenses(s: ActiveSettings) -> list[GradientTransform]:
    """``--defense``'s gradient transforms; ``hide`` is a method, refused here (one line)."""
    from vfl.audit.config import DefenseConfig
    from vfl.audit.defenses import defense_transforms
    from vfl.audit.registry import DEFENSES

    names = s.defense or []
    transforms = defense_transforms(
        names, DefenseConfig(noise_multiplier=s.noise, clip_norm=s.clip)
    )
    if any(DEFENSES.get(name).method for name in names):
        raise ConfigError(
            "--defense hide is a method, not a gradient transform: submit requests with "
            "`vfl unlearn --method luv-hidden`"
        )
    return transforms


@serve_app.command("health")
@friendly_errors
def health(
    target: Annotated[str, typer.Option(help="HOST:PORT of the server to probe.")],
    server_name: Annotated[str, typer.Option(help="Identity the server's certificate names.")],
    certs: Certs = None,
    identity: Identity = "",
    insecure: Insecure = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for SERVING.")] = 5.0,
) -> None:
    """Exit 0 when the server reports SERVING (for container health checks)."""
    from vfl.grpc.health import wait_healthy
    from vfl.grpc.server import grpc_options

    tls = TLSConfig(certs=certs, identity=identity, insecure=insecure).checked()
    channel = tls.open_channel(target, server_name, grpc_options())
    try:
        wait_healthy(channel, timeout, f"{server_name} at {target}")
    finally:
        channel.close()
    typer.echo("SERVING")


if __name__ == "__main__":
    serve_app(prog_name="vfl serve")
