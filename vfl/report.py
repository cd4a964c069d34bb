"""Writing results: JSON reports and per-class accuracy plots, both atomic.

Each file goes through :func:`vfl.atomic.write_atomic`, so an interrupted run
never leaves half a report behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vfl.atomic import write_atomic

__all__ = ["plot_curves", "plot_per_class", "write_json"]


def write_json(path: Path, report: dict[str, Any]) -> None:
    write_atomic(path, lambda fh: fh.write(json.dumps(report, indent=2).encode() + b"\n"))


def _pyplot() -> Any:
    """Matplotlib's pyplot on the file-only backend (imported late: it is slow to load)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(path: Path, fig: Any) -> None:
    write_atomic(path, lambda fh: fig.savefig(fh, format="png", dpi=120))
    _pyplot().close(fig)


def plot_per_class(path: Path, report: dict[str, Any]) -> None:
    """Grouped bars of per-class test accuracy: original, unlearned, retrained."""
    import numpy as np

    plt = _pyplot()

    phases = [p for p in ("original", "unlearned", "retrained") if p in report]
    n_classes = len(report["original"]["per_class"])
    width = 0.8 / len(phases)
    fig, ax = plt.subplots(figsize=(max(6, n_classes * 0.7), 3.6))
    for k, phase in enumerate(phases):
        values = np.nan_to_num(np.asarray(report[phase]["per_class"], dtype=float)) * 100
        ax.bar(
            np.arange(n_classes) + (k - (len(phases) - 1) / 2) * width, values, width, label=phase
        )
    for c in report["classes_forgotten"]:
        ax.axvspan(c - 0.45, c + 0.45, color="red", alpha=0.08)
    ax.set_xticks(range(n_classes))
    ax.set_xlabel("class (shaded: forgotten)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 105)
    ax.set_title(
        f"{report['dataset']}: {report['method']} forgetting {report['classes_forgotten']}"
    )
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
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
