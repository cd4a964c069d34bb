"""The one place where errors become CLI output and exit codes.

=====  ==========================================================================
code   meaning
=====  ==========================================================================
0      success
1      a request ran and failed: aborted, or (``unlearn --wait``) short of its target
2      bad usage or input: one ``vfl: error: ...`` line on stderr
130    interrupted (Ctrl-C)
=====  ==========================================================================

Library errors become exit 2 in :func:`friendly_errors`; click's usage errors
(an unknown option, a missing value) become the same one line in
:class:`OneLineErrors`, the root command group, instead of typer's boxed panel.
Warnings get one line too (``vfl: warning: ...``): Python's default format adds
the file, line number and source line of the library code that warned, which
tells an operator nothing.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import click
import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from vfl.errors import VFLError

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "OneLineErrors",
    "fail",
    "friendly_errors",
    "one_line_warnings",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print ``vfl: error: message`` on stderr and return the exit to raise.

    ``code`` is :data:`EXIT_USAGE` for bad input, :data:`EXIT_FAILED` for a
    request that ran and failed.
    """
    print(f"vfl: error: {message}", file=sys.stderr)
    return typer.Exit(code)


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
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return wrapper


def _usage_line(exc: click.ClickException) -> str:
    """``vfl: error: No such option: --nope (see `vfl simulate --help`)``."""
    ctx = getattr(exc, "ctx", None)
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    return f"vfl: error: {exc.format_message()}{hint}"


class OneLineErrors(TyperGroup):
    """The root group: usage errors as one line, every outcome one of the exit codes above.

    Click is run in non-standalone mode so its exceptions reach this method
    whichever way the app is called (``python -m vfl``, the ``vfl`` script, or
    a test's ``CliRunner``).
    """

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        code = self._exit_code(args, prog_name, complete_var, **extra)
        if not standalone_mode:
            return code
        sys.exit(code)

    def _exit_code(self, *args: Any, **extra: Any) -> int:
        try:
            returned = super().main(*args, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()  # the help was printed when the error was made
            return EXIT_USAGE
        except click.ClickException as exc:  # usage errors, and files click could not open
            print(_usage_line(exc), file=sys.stderr)
            return EXIT_USAGE
        except (click.Abort, KeyboardInterrupt):
            print("vfl: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        # Non-standalone click returns an Exit's code, or the command's return value (None).
        return returned if isinstance(returned, int) else EXIT_OK
