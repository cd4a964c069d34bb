"""Fixtures for the transaction tests: certificates and one killable federation.

The certificate fixture comes from the gRPC area (through the journal area's
conftest, which loads it without copying); the federation is in
``txn_federation.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

_path = Path(__file__).resolve().parents[1] / "journal" / "conftest.py"
_spec = importlib.util.spec_from_file_location("journal_area_fixtures", _path)
assert _spec is not None and _spec.loader is not None
_journal = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _journal
_spec.loader.exec_module(_journal)  # also puts the repository root on sys.path for `parties`

from txn_federation import Federation  # noqa: E402

certs = _journal.certs


@pytest.fixture(scope="session")
def federation(certs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """One federation for every test here (process starts are the expensive part).

    Each test starts from "every party at one version" and leaves it so.
    """
    with ExitStack() as stack:
        fed = Federation(stack, certs, tmp_path_factory.mktemp("federation"))
        stack.callback(fed.close)
        yield fed
