"""vfl.atomic: a reader sees the old file or the whole new one, and bad paths fail first."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

import pytest
import torch

from vfl.atomic import TEMP_SUFFIX, check_writable, write_atomic
from vfl.errors import CheckpointError, ConfigError
from vfl.party.state import load_checkpoint, save_checkpoint


def _half_then_fail(fh: IO[bytes]) -> None:
    fh.write(b"half a new")
    raise OSError(28, "No space left on device")


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    write_atomic(target, lambda fh: fh.write(b"old"))
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, _half_then_fail)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_a_directory_as_target_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    calls: list[IO[bytes]] = []
    with pytest.raises(ConfigError, match="is a directory"):
        write_atomic(tmp_path / "out", calls.append)
    assert calls == [] and [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_checkpoint_write_that_fails_is_a_checkpoint_error_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "versions" / "v1.pt"
    save_checkpoint(path, {"w": torch.zeros(3)})

    def full_disk(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("vfl.atomic.os.fsync", full_disk)
    with pytest.raises(CheckpointError, match=r"cannot write checkpoint .*No space left"):
        save_checkpoint(path, {"w": torch.ones(3)})
    assert torch.equal(load_checkpoint(path)["w"], torch.zeros(3))
    assert not list(path.parent.glob(f"*{TEMP_SUFFIX}"))


def test_a_fifo_is_refused_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        write_atomic(fifo, lambda fh: fh.write(b"x"))
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["out.fifo"]


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target, link = tmp_path / "real" / "report.json", tmp_path / "report.json"
    target.write_bytes(b"old")
    link.symlink_to(target)
    write_atomic(link, lambda fh: fh.write(b"new"))
    assert link.is_symlink() and target.read_bytes() == b"new"
    dangling = tmp_path / "later.json"
    dangling.symlink_to(tmp_path / "real" / "later.json")
    write_atomic(dangling, lambda fh: fh.write(b"made"))
    assert dangling.is_symlink() and (tmp_path / "real" / "later.json").read_bytes() == b"made"


def test_a_directory_where_no_file_can_be_made_is_refused_by_the_early_check() -> None:
    with pytest.raises(ConfigError, match=r"cannot write /proc/vfl-test\.json"):
        check_writable(Path("/proc/vfl-test.json"))
