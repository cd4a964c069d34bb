"""Writing results: JSON reports and per-class accuracy plots, both atomic.

A file is written to a temporary name next to its target and renamed into
place, so an interrupted run never leaves half a report behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from vfl.errors import ConfigError

__all__ = ["check_writable", "plot_curves", "plot_per_class", "write_atomic", "write_json"]


def check_writable(path: Path) -> Path:
    """Fail early (before hours of training) if ``path`` cannot be written."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigError(f"{path} is a directory; give a file name")
    if not parent.is_dir():
        raise ConfigError(f"cannot write {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"cannot write {path}: permission denied")
    return path


def write_atomic(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(fh)`` on a temp file beside ``path``, then rename it into place."""
    path = check_writable(Path(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The umask, read from /proc where possible: setting and restoring it races threads."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
