"""Class names as the data names them, in the result table, the JSON report and the plot."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from vfl.cli.render import results_table
from vfl.data import load_dataset
from vfl.report import class_labels, plot_per_class


def report(names: list[str] | None) -> dict:
    phase = {"test_acc": 0.9, "retain_acc": 0.9, "forget_acc": 0.0, "mia": 0.5, "seconds": 1.0}
    out = {
        "dataset": "breast-cancer", "parties": 2, "classes_forgotten": [0], "method": "luv",
        "original": {**phase, "per_class": [0.92, 0.97]},
        "unlearned": {**phase, "per_class": [0.0, 1.0]},
    }  # fmt: skip
    return out if names is None else {**out, "class_names": names}


def test_the_builtin_tabular_datasets_keep_their_class_names() -> None:
    assert load_dataset("breast-cancer", None, 0).class_names == ["malignant", "benign"]
    assert load_dataset("digits", None, 0).class_names == [str(d) for d in range(10)]


def test_the_table_and_plot_name_the_forgotten_class(tmp_path: Path) -> None:
    console = Console(width=200, record=True)
    console.print(results_table(report(["malignant", "benign"])))
    assert "forget malignant (0)" in console.export_text()
    console.print(results_table(report(None)))  # a report from before names: the index
    assert "forget 0 ·" in console.export_text()
    assert class_labels(report(None)) == ["0", "1"]
    plot_per_class(tmp_path / "p.png", report(["malignant", "benign"]))
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
