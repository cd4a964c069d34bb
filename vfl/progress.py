"""Progress events: the one way long work reports how far it got.

Library code emits :class:`ProgressEvent`s to a callback; the CLI draws rich
progress bars from them on a terminal, :class:`PlainProgress` lines elsewhere
(docker logs, CI: rich's live display shows nothing there until the command
exits), and the gRPC coordinator streams them to operators.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "PLAIN_INTERVAL",
    "PlainProgress",
    "ProgressCallback",
    "ProgressEvent",
    "format_seconds",
    "ignore_progress",
]

PLAIN_INTERVAL = 5.0
"""Seconds between two plain progress lines of one phase."""


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


def format_seconds(seconds: float) -> str:
    """``7s``, ``3m05s``, ``2h14m``: short enough for a log line."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


@dataclass
class _Phase:
    started: float
    printed: float
    step: int = 0
    pending: str = ""  # the latest line, until it is written
    metrics: dict[str, float] = field(default_factory=dict)


class PlainProgress:
    """A :data:`ProgressCallback` that writes plain lines, one per phase every ``interval`` s.

    A phase gets a line at its first event, then at most every ``interval``
    seconds, and its latest state once it is over (another phase starts, or
    :meth:`close`): ``train 740/2960 (25%) loss=0.412 elapsed 12s eta 36s``.
    The metrics are the latest the phase reported (they come at epoch ends,
    between which the batches report none). ``clock`` is injectable so tests
    need no sleeping.
    """

    def __init__(
        self,
        write: Callable[[str], None],
        interval: float = PLAIN_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write, self._interval, self._clock = write, interval, clock
        self._phases: dict[str, _Phase] = {}

    def __call__(self, event: ProgressEvent) -> None:
        now = self._clock()
        for name in self._phases.keys() - {event.phase}:
            self._flush(self._phases[name])
        phase = self._phases.get(event.phase)
        if phase is None or event.step < phase.step:  # new, or the phase started over
            self._flush(phase)
            phase = self._phases[event.phase] = _Phase(started=now, printed=now - self._interval)
        phase.step = event.step
        phase.metrics.update(event.metrics)
        phase.pending = self._line(event, phase.metrics, now - phase.started)
        if now - phase.printed >= self._interval:
            phase.printed = now
            self._flush(phase)

    def close(self) -> None:
        """Write every phase's latest state that is not written yet."""
        for phase in self._phases.values():
            self._flush(phase)

    def _flush(self, phase: _Phase | None) -> None:
        if phase is not None and phase.pending:
            self._write(phase.pending)
            phase.pending = ""

    @staticmethod
    def _line(event: ProgressEvent, metrics: dict[str, float], elapsed: float) -> str:
        total = max(event.total, 1)
        parts = [f"{event.phase} {event.step}/{event.total} ({100 * event.step // total}%)"]
        parts += [f"{k}={v:.3f}" for k, v in metrics.items()]
        parts.append(f"elapsed {format_seconds(elapsed)}")
        if 0 < event.step < event.total:
            parts.append(f"eta {format_seconds(elapsed / event.step * (event.total - event.step))}")
        return " ".join(parts)
