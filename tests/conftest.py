"""Root conftest: torch threads pinned for the whole session, shared fixtures as plugins.

One intra-op thread, set before torch loads so that it and every process a
test starts (children inherit ``os.environ``) agree: float sums (BatchNorm's
among them) then come out the same on any machine, in-process and over gRPC
alike, and three or four party processes on a 2-core host do not
oversubscribe it. Tests therefore need no thread pinning of their own.
"""

from __future__ import annotations

import os

TEST_THREADS = 1
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = str(TEST_THREADS)

import pytest  # noqa: E402
import torch  # noqa: E402  (torch reads the variables above once, when it loads)

pytest.register_assert_rewrite("tests.fixtures")  # imported here before pytest_plugins loads it
from tests.fixtures.federation import FAST_TRAIN  # noqa: E402, F401  (tests import it from here)

torch.set_num_threads(TEST_THREADS)

pytest_plugins = ["tests.fixtures.federation", "tests.fixtures.pki"]
