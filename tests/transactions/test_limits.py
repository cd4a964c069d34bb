"""vfl.txn.limits and the runner's idempotency rule, without processes (the slow lane has both)."""

from __future__ import annotations

import re

import pytest

from vfl.errors import ConfigError, IdempotencyConflictError
from vfl.txn.journal import MemoryJournal
from vfl.txn.limits import MAX_PAGE_SIZE, check_idempotency_key, check_page, check_train
from vfl.txn.records import RequestRecord
from vfl.txn.runner import RequestRunner


class NoParties:
    """A request runner over nothing: these tests never run a request."""

    def versions(self) -> dict[str, int]:
        return {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0,), "epochs must be from 1 to 10000 (got 0)"),
        ((20_000,), "from 1 to 10000 (got 20000)"),
        ((1, -5), "batch_size and lr are the server's"),
        ((1, 0, -1.0), "batch_size and lr are the server's"),
    ],
)
def test_train_requests_are_checked_against_the_servers_config(args, message) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_train(*args)


def test_pages_are_offsets_capped_at_the_maximum() -> None:
    assert check_page("", 0) == (0, 100)
    assert check_page("300", 10**6) == (300, MAX_PAGE_SIZE)
    for token, size in (("-1", 0), ("x", 0), ("9" * 19, 0), ("", -1)):
        with pytest.raises(ConfigError):
            check_page(token, size)


def test_keys_are_short_printable_text() -> None:
    assert check_idempotency_key("ticket-4711") == "ticket-4711"
    for key in ("k" * 129, "a\nb"):
        with pytest.raises(ConfigError):
            check_idempotency_key(key)


def test_a_key_names_one_request_and_its_parameters() -> None:
    journal = MemoryJournal()
    runner = RequestRunner(NoParties(), journal, enforce_versions=False)  # type: ignore[arg-type]
    try:
        record = RequestRecord(id="first", kind="unlearn", classes=[5], method="luv")
        journal.add(record.model_copy(update={"idempotency_key": "K"}))
        again = RequestRecord(id="", kind="unlearn", classes=[5], method="luv", idempotency_key="K")
        assert runner.submit(again, lambda *_: {}).id == "first"
        other = again.model_copy(update={"classes": [6]})
        with pytest.raises(IdempotencyConflictError, match="already used by request first"):
            runner.submit(other, lambda *_: {})
        assert [r.id for r in journal.all()] == ["first"]
    finally:
        runner.shutdown()
