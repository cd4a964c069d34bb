"""The root conftest pins torch to one thread here and in every process a test starts."""

from __future__ import annotations

import os
import subprocess
import sys

import torch

from tests.conftest import TEST_THREADS


def test_this_process_uses_the_pinned_thread_count() -> None:
    assert torch.get_num_threads() == TEST_THREADS


def test_child_processes_inherit_the_pinned_thread_count() -> None:
    """Party servers are started with our environment; torch there must agree."""
    assert os.environ["OMP_NUM_THREADS"] == os.environ["MKL_NUM_THREADS"] == str(TEST_THREADS)
    out = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(out.stdout) == TEST_THREADS
