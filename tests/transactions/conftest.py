"""Fixtures for the transaction tests: one killable federation of real processes.

The certificate fixture is the shared one (``tests.fixtures.pki``); the
federation is in ``txn_federation.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from txn_federation import Federation


@pytest.fixture(scope="session")
def federation(certs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """One federation for every test here (process starts are the expensive part).

    Each test starts from "every party at one version" and leaves it so.
    """
    with ExitStack() as stack:
        fed = Federation(stack, certs, tmp_path_factory.mktemp("federation"))
        stack.callback(fed.close)
        yield fed
