"""Writing results: JSON reports and per-class accuracy plots, both atomic.

Every JSON document vfl hands a user (a ``--json`` report file or a command's
``--json`` output) is made here, so all of them agree: a header
(``schema_version``, ``vfl_version``, ``created_at`` in UTC) first, then the
body in the order the code built it, and ``null`` where a value does not apply
(a metric that is NaN because there is nothing to measure, such as the MIA of a
train request). Files go through :func:`vfl.atomic.write_atomic`, so an
interrupted run never leaves half a report behind; the path ``-`` is stdout.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vfl._version import __version__
from vfl.atomic import check_writable, write_atomic
from vfl.errors import ConfigError

__all__ = [
    "SCHEMA_VERSION",
    "STDOUT",
    "check_output",
    "check_plotting",
    "class_labels",
    "dumps",
    "is_stdout",
    "jsonable",
    "plot_curves",
    "plot_per_class",
    "stamped",
    "write_json",
]

SCHEMA_VERSION = 1
"""Bumped when a key of a report is renamed or removed (adding keys keeps it)."""
STDOUT = Path("-")
"""``--json -``: the report goes to stdout."""


def is_stdout(path: Path | None) -> bool:
    return path is not None and str(path) == str(STDOUT)


def check_output(path: Path | None) -> None:
    """Fail before any work if ``path`` cannot be written (stdout always can)."""
    if path is not None and not is_stdout(path):
        check_writable(path)


def jsonable(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None`` and tuples as lists.

    Strict JSON has no NaN; a metric that is NaN means "does not apply here"
    (nothing forgotten, nothing to measure), which JSON says with ``null``.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def stamped(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` after the report header; a key of ``body`` never replaces a header key."""
    header = {
        "schema_version": SCHEMA_VERSION,
        "vfl_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return header | {k: v for k, v in body.items() if k not in header}


def dumps(document: Any) -> str:
    """Indented strict JSON (``null`` for NaN), newline-terminated."""
    return json.dumps(jsonable(document), indent=2, allow_nan=False) + "\n"


def write_json(path: Path, report: Mapping[str, Any], header: bool = True) -> None:
    """Write ``report`` (stamped with the header unless ``header`` is off) to ``path`` or stdout."""
    text = dumps(stamped(report) if header else report)
    if is_stdout(path):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_atomic(path, lambda fh: fh.write(text.encode()))


def check_plotting(flag: str = "--plot") -> None:
    """Refuse ``flag`` before any work when matplotlib (the ``plot`` extra) is missing."""
    if importlib.util.find_spec("matplotlib") is None:
        raise ConfigError(
            f"{flag} draws with matplotlib, which is not installed: pip install 'vfl[plot]'"
        )


def _pyplot() -> Any:
    """Matplotlib's pyplot on the file-only backend (imported late: it is slow to load)."""
    check_plotting("a chart")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(path: Path, fig: Any) -> None:
    write_atomic(path, lambda fh: fig.savefig(fh, format="png", dpi=120))
    _pyplot().close(fig)


def class_labels(report: dict[str, Any]) -> list[str]:
    """Each class as the label file names it (older reports: its index)."""
    n_classes = len(report["original"]["per_class"])
    return list(report.get("class_names") or [str(c) for c in range(n_classes)])


def plot_per_class(path: Path, report: dict[str, Any]) -> None:
    """What was forgotten, and what it cost: two panels of per-class test accuracy.

    Left, the forgotten classes on 0-100 % (every bar labelled, so a 0 % bar is seen);
    right, each retained class's change from the original model in points, on an
    axis scaled to those changes (on 0-100 % they would be invisible). The legend sits
    above the panels, where it covers no bar.
    """
    import numpy as np

    plt = _pyplot()
    phases = [p for p in ("original", "unlearned", "retrained") if p in report]
    names = class_labels(report)
    forgotten = list(report["classes_forgotten"])
    retained = [c for c in range(len(names)) if c not in forgotten]
    acc = {p: np.nan_to_num(np.asarray(report[p]["per_class"], dtype=float)) * 100 for p in phases}
    colours = dict(zip(("original", "unlearned", "retrained"), ("C0", "C3", "C2"), strict=True))
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(max(7.0, 2.0 + 0.55 * len(names)), 3.8),
        gridspec_kw={"width_ratios": [max(1, len(forgotten)) + 1, max(1, len(retained))]},
    )  # fmt: skip
    width = 0.8 / len(phases)
    for k, phase in enumerate(phases):
        x = np.arange(len(forgotten)) + (k - (len(phases) - 1) / 2) * width
        bars = left.bar(x, acc[phase][forgotten], width, label=phase, color=colours[phase])
        left.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
    left.set_xticks(range(len(forgotten)), [names[c] for c in forgotten])
    left.set_ylim(0, 110)
    left.set_ylabel("test accuracy (%)")
    left.set_title("forgotten classes", fontsize=9)
    changed = [p for p in phases if p != "original"]
    width = 0.8 / max(1, len(changed))
    for k, phase in enumerate(changed):
        x = np.arange(len(retained)) + (k - (len(changed) - 1) / 2) * width
        delta = acc[phase][retained] - acc["original"][retained]
        right.bar(x, delta, width, color=colours[phase])
    right.axhline(0, color="black", linewidth=0.8)
    right.set_xticks(range(len(retained)), [names[c] for c in retained])
    right.set_ylabel("change vs original (points)")
    right.set_title("retained classes (the cost)", fontsize=9)
    rotate = max((len(n) for n in names), default=1) > 3
    for ax in (left, right):
        ax.tick_params(axis="x", labelrotation=45 if rotate else 0, labelsize=8)
    forgot = ", ".join(names[c] for c in forgotten)
    fig.suptitle(f"{report['dataset']}: {report['method']} forgetting {forgot}", fontsize=10)
    fig.legend(*left.get_legend_handles_labels(), loc="upper center", ncol=len(phases),
               fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.94))  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    _save(path, fig)


def plot_curves(
    path: Path, panels: dict[str, dict[str, list[dict[str, float]]]], title: str
) -> None:
    """Test accuracy across unlearning epochs: a column per setting, a colour per method.

    ``panels[name][method]`` is a list of ``{epoch, retain_acc, forget_acc}`` points.
    The top row shows forgotten classes on 0-100 %; the bottom row zooms in on the
    retained classes, whose changes are a few points at most.
    """
    plt = _pyplot()
    rows = {"forget_acc": "forgotten classes", "retain_acc": "retained classes"}
    fig, axes = plt.subplots(
        2, len(panels), figsize=(5.2 * len(panels), 6.4), squeeze=False, sharex="col"
    )
    for col, (name, methods) in enumerate(panels.items()):
        for row, key in enumerate(rows):
            ax = axes[row][col]
            for k, (method, points) in enumerate(methods.items()):
                xs = [p["epoch"] for p in points]
                ax.plot(xs, [p[key] * 100 for p in points], "-o", ms=3, color=f"C{k}", label=method)
            ax.grid(alpha=0.3)
            ax.xaxis.get_major_locator().set_params(integer=True)
        axes[0][col].set_title(name, fontsize=10)
        axes[0][col].set_ylim(-3, 103)
        axes[1][col].set_xlabel("unlearning epoch (0 = original model)")
    for row, label in enumerate(rows.values()):
        axes[row][0].set_ylabel(f"test accuracy, {label} (%)")
    axes[0][-1].legend(loc="upper right", fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    _save(path, fig)
