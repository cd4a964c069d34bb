"""The one place where errors become CLI output: one line on stderr, exit code 2.

Warnings get one line too (``vfl: warning: ...``): Python's default format adds
the file, line number and source line of the library code that warned, which
tells an operator nothing.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from pydantic import ValidationError

from vfl.errors import VFLError

__all__ = ["EXIT_USAGE", "fail", "friendly_errors", "one_line_warnings"]

EXIT_USAGE = 2
P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str) -> typer.Exit:
    """Print ``vfl: error: message`` on stderr and return the exit to raise."""
    print(f"vfl: error: {message}", file=sys.stderr)
    return typer.Exit(EXIT_USAGE)


def _format_warning(message: Warning | str, *_args: object, **_kwargs: object) -> str:
    return f"vfl: warning: {message}\n"


def one_line_warnings() -> None:
    """Print every warning of this process as ``vfl: warning: message``."""
    warnings.formatwarning = _format_warning


def _validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "input"
    message = str(first.get("msg", "bad value")).removeprefix("Value error, ")
    return f"invalid {where}: {message}"


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn library errors into one clean line instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except VFLError as exc:
            raise fail(str(exc)) from None
        except ValidationError as exc:
            raise fail(_validation_message(exc)) from None
        except KeyboardInterrupt:
            print("vfl: interrupted", file=sys.stderr)
            raise typer.Exit(130) from None

    return wrapper
