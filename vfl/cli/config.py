"""A command's options as one settings model: from a TOML file, the environment and flags.

A command built with :func:`settings_command` takes one :class:`CommandSettings`
model instead of a list of parameters. Each field of the model is one option
under one name: the field ``batch_size`` is the flag ``--batch-size`` (the
``typer.Option`` in the field's ``Annotated`` says how it looks in ``--help``),
the key ``batch_size`` of a ``--config`` file and the variable
``<env_prefix>BATCH_SIZE``. The layers, lowest first::

    field defaults < the --config file < environment variables < flags typed

Only flags the user typed count as flags (click records where each value came
from), so a file's ``batch_size = 32`` is not overridden by the flag's default.
``--dump-config`` prints the merged settings as TOML, which ``--config`` loads
back to the same model. A bad file, key or value is one :class:`ConfigError`
naming the file (or variable, or flag) and the key, before the command runs.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import tomli_w
import typer
from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict, SettingsError
from typer.models import OptionInfo

from vfl.errors import ConfigError

__all__ = ["CommandSettings", "dump_toml", "load_settings", "read_toml", "settings_command"]

S = TypeVar("S", bound="CommandSettings")
R = TypeVar("R")

LAYERS_HELP = (
    "Every option can also be a key of a TOML --config file (seed = 1) or an "
    "environment variable {prefix}<OPTION> ({prefix}SEED; lists as JSON); "
    "precedence: defaults < file < environment < flags."
)


class CommandSettings(BaseSettings):
    """The options of one command; subclasses set ``env_prefix`` and declare the fields.

    A field whose flag is not its name (``--json`` for ``json_out``) takes the
    flag's name as its alias, so the file key and the variable follow the flag.
    """

    model_config = SettingsConfigDict(extra="forbid", frozen=True, env_prefix_target="all")


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Read options from this TOML file (keys are the option names: data_dir).",
        dir_okay=False,
    ),
]
DumpConfigOpt = Annotated[
    bool,
    typer.Option(
        "--dump-config",
        help="Print the effective options as TOML (loadable with --config) and exit.",
    ),
]


def field_names(cls: type[CommandSettings]) -> list[str]:
    """The fields in the order ``--help`` and ``--dump-config`` show them: the command's
    own first, then those it shares with its siblings (declared in a base class)."""
    own = [name for name in vars(cls).get("__annotations__", {}) if name in cls.model_fields]
    return [*own, *(name for name in cls.model_fields if name not in own)]


def key_of(name: str, field: FieldInfo) -> str:
    """The file key (and environment suffix) of a field: its alias, else its name."""
    return field.alias or name


def flag_of(name: str, field: FieldInfo) -> str:
    """The field's flag as ``--help`` shows it (``--compare-retrain``, ``--json``)."""
    for info in field.metadata:
        # In Annotated, typer.Option("--json") keeps the first declaration in `default`.
        if isinstance(info, OptionInfo) and isinstance(info.default, str):
            return info.default.split("/")[0]
    return "--" + name.replace("_", "-")


def read_toml(path: Path) -> dict[str, Any]:
    """The tables of a TOML file; unreadable or not TOML is one error naming the file."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"--config {path}: cannot read it ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--config {path}: not valid TOML: {exc}") from None


def dump_toml(settings: CommandSettings, command: str) -> str:
    """``settings`` as a TOML file that loads back to the same model.

    TOML has no null: an option left unset (``None``, chosen when the command
    runs) is left out, and listed in a comment.
    """
    dumped = settings.model_dump(mode="json", by_alias=True)
    fields = type(settings).model_fields
    values = {
        key_of(n, fields[n]): dumped[key_of(n, fields[n])] for n in field_names(type(settings))
    }
    unset = [key for key, value in values.items() if value is None]
    header = [f"# vfl {command}: effective options (load with --config)"]
    if unset:
        header.append(f"# unset (absent, or chosen when it runs): {', '.join(unset)}")
    body = [f"{key} = {_literal(value)}" for key, value in values.items() if value is not None]
    return "\n".join([*header, *body]) + "\n"


def _literal(value: Any) -> str:
    """A TOML value (tomli_w quotes and escapes it); a list of them on one line."""
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    return tomli_w.dumps({"v": value}).partition(" = ")[2].strip()


def _env_layer(cls: type[CommandSettings]) -> dict[str, Any]:
    """``<prefix><KEY>`` variables, parsed by pydantic-settings; an unknown one is an error."""
    prefix = cls.model_config.get("env_prefix", "")
    keys = {key_of(n, f).upper() for n, f in cls.model_fields.items()}
    for var in os.environ:
        if var.upper().startswith(prefix) and var.upper()[len(prefix) :] not in keys:
            close = _closest(var[len(prefix) :].lower(), cls)
            hint = f" (did you mean {prefix}{close.upper()}?)" if close else ""
            raise ConfigError(f"{var}: no such option{hint}")
    try:
        values = EnvSettingsSource(cls)()
    except SettingsError as exc:  # a list variable that is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        var = f"{prefix}{field[1].upper()}" if field else f"{prefix}*"
        raise ConfigError(f'{var}: not JSON; write a list as JSON: ["a", "b"]') from None
    by_name = {n: key_of(n, f) for n, f in cls.model_fields.items()}
    return {by_name.get(k, k): v for k, v in values.items()}


def _closest(key: str, cls: type[CommandSettings]) -> str | None:
    """The option name a typo most likely meant, if one is close."""
    keys = [key_of(n, f) for n, f in cls.model_fields.items()]
    close = difflib.get_close_matches(key, keys, n=1)
    return close[0] if close else None


def load_settings(
    cls: type[S],
    config: Path | None,
    flags: dict[str, Any],
    flag_envs: dict[str, tuple[str, Any]] | None = None,
) -> S:
    """Merge the layers into one ``cls``: defaults < ``config`` < environment < ``flags``.

    ``flags`` are the options typed, by field name; ``flag_envs`` are options
    click read from their own variable (``VFL_CERTS``), by field name: (variable,
    value), just below the ``<prefix><KEY>`` variables. A bad key or value is
    one :class:`ConfigError` naming where it came from.
    """
    fields = cls.model_fields
    prefix = cls.model_config.get("env_prefix", "")
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}

    def add(values: dict[str, Any], where: Callable[[str], str]) -> None:
        merged.update(values)
        origin.update({key: where(key) for key in values})

    if config is not None:
        add(read_toml(config), lambda key: f"{config}: {key}")
    for name, (var, value) in (flag_envs or {}).items():
        add({key_of(name, fields[name]): value}, lambda _key, var=var: var)
    add(_env_layer(cls), lambda key: f"{prefix}{key.upper()}")
    typed = {key_of(n, fields[n]): v for n, v in flags.items()}
    flag = {key_of(n, f): flag_of(n, f) for n, f in fields.items()}
    add(typed, lambda key: flag[key])
    try:
        return cls.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_first_error(exc, cls, origin, flag, prefix)) from None


def _first_error(
    exc: ValidationError,
    cls: type[CommandSettings],
    origin: dict[str, str],
    flag: dict[str, str],
    prefix: str,
) -> str:
    """One line for the first error: the file, variable or flag, the key, what is wrong."""
    error = exc.errors()[0]
    key = str(error["loc"][0]) if error["loc"] else ""
    where = origin.get(key, key)
    if error["type"] == "extra_forbidden":
        close = _closest(key, cls)
        return f"{where}: unknown key" + (f" (did you mean {close}?)" if close else "")
    if error["type"] == "missing":
        return f"{key} is required: give {flag[key]}, {prefix}{key.upper()} or {key} in --config"
    inner = "".join(f"[{p}]" for p in error["loc"][1:])
    got = repr(error["input"])
    return f"{where}{inner}: {error['msg']} (got {got if len(got) <= 60 else got[:57] + '...'})"


def _parameters(cls: type[CommandSettings]) -> list[inspect.Parameter]:
    """One keyword parameter per field, as typer reads them: the field's option, its default.

    A required field defaults to ``None`` here: it may still come from the
    file or the environment, and :func:`load_settings` says when it is missing.
    """
    out = []
    for name in field_names(cls):
        field = cls.model_fields[name]
        options = [m for m in field.metadata if isinstance(m, OptionInfo)]
        annotation = Annotated[(field.annotation, *options)] if options else field.annotation
        default = None if field.is_required() else field.get_default(call_default_factory=True)
        out.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                     annotation=annotation))  # fmt: skip
    return out


def _typed(names: list[str], values: dict[str, Any]) -> tuple[dict, dict]:
    """The values the user gave: typed on the command line, or from an option's own envvar."""
    ctx = click.get_current_context()
    envvars = {p.name: p.envvar for p in ctx.command.params}
    typed, from_env = {}, {}
    for name in names:
        source = ctx.get_parameter_source(name)
        if source is click.core.ParameterSource.COMMANDLINE:
            typed[name] = values[name]
        elif source is click.core.ParameterSource.ENVIRONMENT:
            from_env[name] = (str(envvars[name]), values[name])
    return typed, from_env


def settings_command(
    cls: type[S], command_name: str
) -> Callable[[Callable[..., R]], Callable[..., R | None]]:
    """Give ``command(settings, **own)`` the model's fields as flags, ``--config`` and
    ``--dump-config``; typer sees them through the wrapper's signature.

    ``own`` are the command's other parameters (hidden process plumbing), which
    are not settings and not in the file.
    """

    def decorate(command: Callable[..., R]) -> Callable[..., R | None]:
        signature = inspect.signature(command, eval_str=True)
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in signature.parameters.values()
            if p.name != "settings"
        ]
        names = list(cls.model_fields)

        @functools.wraps(command)
        def wrapper(*, config: Path | None, dump_config: bool, **kwargs: Any) -> R | None:
            values = {name: kwargs.pop(name) for name in names}
            settings = load_settings(cls, config, *_typed(names, values))
            if dump_config:
                typer.echo(dump_toml(settings, command_name), nl=False)
                return None
            return command(settings, **kwargs)

        extra = [
            inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None,
                              annotation=ConfigOpt),
            inspect.Parameter("dump_config", inspect.Parameter.KEYWORD_ONLY, default=False,
                              annotation=DumpConfigOpt),
        ]  # fmt: skip
        params = [*extra, *_parameters(cls), *own]
        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        prefix = cls.model_config.get("env_prefix", "")
        wrapper.__doc__ = (
            f"{inspect.cleandoc(command.__doc__ or '')}\n\n{LAYERS_HELP.format(prefix=prefix)}"
        )
        return wrapper

    return decorate
