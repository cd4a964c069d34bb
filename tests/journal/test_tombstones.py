"""Tombstones: committed unlearning removes classes until an explicit relearn brings them back."""

from __future__ import annotations

from vfl.txn.records import RequestRecord
from vfl.txn.tombstones import forgotten_classes


def record(kind: str, classes: list[int], status: str = "committed") -> RequestRecord:
    return RequestRecord(id=f"{kind}{classes}", kind=kind, classes=classes, status=status)  # type: ignore[arg-type]


def test_committed_unlearning_forgets_and_only_relearn_restores() -> None:
    history = [
        record("train", []),
        record("unlearn", [3, 5]),
        record("train", []),  # ordinary training brings nothing back
        record("unlearn", [7], status="aborted"),  # never happened
        record("unlearn", [1], status="running"),  # not decided yet
    ]
    assert forgotten_classes(history) == [3, 5]
    assert forgotten_classes([*history, record("train", [5])]) == [3]
    assert forgotten_classes([*history, record("train", [5], status="aborted")]) == [3, 5]
    assert forgotten_classes([*history, record("train", [5]), record("unlearn", [5])]) == [3, 5]


def test_forgotten_samples_are_those_of_committed_sample_requests() -> None:
    from vfl.txn.records import RequestRecord
    from vfl.txn.tombstones import forgotten_samples

    rows = [
        RequestRecord(id="a", kind="unlearn", status="committed", samples=["c1", "c2"]),
        RequestRecord(id="b", kind="unlearn", status="aborted", samples=["c3"]),
        RequestRecord(id="c", kind="train", status="committed", classes=[1]),
    ]
    assert forgotten_samples(rows) == {"c1", "c2"}
