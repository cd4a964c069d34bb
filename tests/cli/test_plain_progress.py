"""Outside a terminal, progress is plain lines every few seconds (with an ETA), not rich bars."""

from __future__ import annotations

from tests.fixtures.cli import run_vfl
from vfl.progress import PlainProgress, ProgressEvent, format_seconds


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_at_the_start_every_interval_and_when_a_phase_is_over() -> None:
    lines: list[str] = []
    clock = FakeClock()
    progress = PlainProgress(lines.append, interval=5.0, clock=clock)
    for t, step in ((0, 1), (1, 2), (4, 3), (6, 4)):
        clock.now = 100.0 + t
        progress(ProgressEvent("train", step, 10, {"loss": 0.5} if step == 3 else {}))
    assert lines == [
        "train 1/10 (10%) elapsed 0s eta 0s",
        # 6 s in, 4 of 10 steps: 1.5 s a step, 6 steps to go
        "train 4/10 (40%) loss=0.500 elapsed 6s eta 9s",
    ]
    clock.now = 107.0
    progress(ProgressEvent("train", 10, 10, {"loss": 0.25}))  # within the interval: held back
    assert len(lines) == 2
    progress(ProgressEvent("unlearn", 1, 4))  # another phase: train's last state first
    assert lines[2:] == [
        "train 10/10 (100%) loss=0.250 elapsed 7s",
        "unlearn 1/4 (25%) elapsed 0s eta 0s",
    ]
    clock.now = 108.0
    progress(ProgressEvent("unlearn", 4, 4))
    progress.close()
    assert lines[4:] == ["unlearn 4/4 (100%) elapsed 1s"]


def test_a_phase_that_starts_over_gets_a_fresh_clock() -> None:
    lines: list[str] = []
    clock = FakeClock()
    progress = PlainProgress(lines.append, interval=5.0, clock=clock)
    progress(ProgressEvent("train", 9, 10))
    clock.now += 50
    progress(ProgressEvent("train", 1, 10))  # retraining: step 1 again
    assert lines == ["train 9/10 (90%) elapsed 0s eta 0s", "train 1/10 (10%) elapsed 0s eta 0s"]


def test_format_seconds() -> None:
    assert [format_seconds(s) for s in (0.4, 59, 61, 3600 + 125)] == ["0s", "59s", "1m01s", "1h02m"]


def test_simulate_outside_a_terminal_prints_plain_progress_lines() -> None:
    result = run_vfl("simulate", "--epochs", "2", "--no-compare-retrain", "--unlearn-epochs", "2")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("train 1/") and " eta " in lines[0]
    assert any(line.startswith("train ") and "loss=" in line for line in lines)
    assert any(line.startswith("unlearn ") for line in lines)
    assert "━" not in result.stderr  # no rich bar
