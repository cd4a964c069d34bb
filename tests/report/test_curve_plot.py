"""The unlearning-curve plot that bench/curves.py writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from vfl.errors import ConfigError
from vfl.report import plot_curves

POINTS = [
    {"epoch": 0, "retain_acc": 0.97, "forget_acc": 0.98},
    {"epoch": 1, "retain_acc": 0.96, "forget_acc": 0.40},
    {"epoch": 2, "retain_acc": 0.97, "forget_acc": 0.0},
]


def test_curves_are_written_as_one_png_with_a_column_per_setting(tmp_path: Path) -> None:
    out = tmp_path / "curves.png"
    plot_curves(out, {"default": {"luv": POINTS}, "all epochs": {"luv": POINTS[:2]}}, "t")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]  # no temp file left


def test_an_unwritable_target_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        plot_curves(tmp_path / "missing" / "curves.png", {"default": {"luv": POINTS}}, "t")


def test_written_files_get_the_usual_permissions_not_mkstemps_0600(tmp_path: Path) -> None:
    out = tmp_path / "curves.png"
    old = os.umask(0o022)
    try:
        plot_curves(out, {"default": {"luv": POINTS}}, "t")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
