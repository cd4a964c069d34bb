"""Progress events: the one way long work reports how far it got.

Library code emits :class:`ProgressEvent`s to a callback; the CLI draws rich
progress bars from them and the gRPC coordinator streams them to operators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["ProgressCallback", "ProgressEvent", "ignore_progress"]


@dataclass(frozen=True)
class ProgressEvent:
    """``phase`` (e.g. ``train``, ``forget``, ``recover``) reached ``step`` of ``total``."""

    phase: str
    step: int
    total: int
    metrics: dict[str, float] = field(default_factory=dict)


ProgressCallback = Callable[[ProgressEvent], None]


def ignore_progress(_event: ProgressEvent) -> None:
    """The default callback: report nothing."""
