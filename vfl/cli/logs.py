"""Logging for every command: ``--log-level``, ``-v/-q`` and ``--log-format`` on the root.

Logs go to stderr (stdout is for results). Commands log at WARNING and up by
default; the servers (``vfl serve ...``) at INFO, so a container's log shows
each request's accept, phases, commit or abort with its id. ``--log-format
json`` writes one JSON object per line for log collectors.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TextIO

from vfl.errors import ConfigError

__all__ = ["LogFormat", "LogLevel", "configure_logging", "server_logging"]


class LogLevel(StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler on the stderr of the moment (a test runner swaps ``sys.stderr``)."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
_handler = _Stderr()
_explicit = False  # a level was asked for: the servers' default does not override it


def configure_logging(
    level: LogLevel | None, verbose: bool, quiet: bool, fmt: LogFormat = LogFormat.text
) -> None:
    """Install the one stderr handler on the root logger; ``--log-level`` beats ``-v``/``-q``."""
    global _explicit
    if level is None and verbose:
        level = LogLevel.debug
    elif level is None and quiet:
        level = LogLevel.error
    _explicit = level is not None
    json_lines = fmt is LogFormat.json
    _handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    if _handler not in root.handlers:
        root.addHandler(_handler)
    root.setLevel((level or LogLevel.warning).upper())


def _from_env(name: str, kind: type[LogLevel] | type[LogFormat]) -> Any:
    value = os.environ.get(name, "").strip().lower()
    try:
        return kind(value) if value else None
    except ValueError:
        raise ConfigError(
            f"{name}={value!r}: choose one of {', '.join(m.value for m in kind)}"
        ) from None


def server_logging() -> None:
    """A server logs at INFO unless a level was asked for.

    Started as ``python -m vfl.cli.serve`` (how tests and parents spawn
    servers) the root options never ran: ``VFL_LOG_LEVEL``/``VFL_LOG_FORMAT`` apply.
    """
    if _handler not in logging.getLogger().handlers:
        fmt = _from_env("VFL_LOG_FORMAT", LogFormat) or LogFormat.text
        configure_logging(_from_env("VFL_LOG_LEVEL", LogLevel), False, False, fmt)
    if not _explicit:
        logging.getLogger().setLevel(logging.INFO)
