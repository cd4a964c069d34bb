"""Forgotten stays forgotten: the classes committed unlearning requests removed.

The journal is the tombstone: every committed ``unlearn`` request names its
classes, and only a committed ``train`` request that names classes (``vfl
train --relearn``, an explicit and journaled operator action) brings them
back. Folding the committed requests in order gives the classes that later
training must leave out, after any restart, with no second record to drift.
"""

from __future__ import annotations

from collections.abc import Iterable

from vfl.txn.records import RequestRecord

__all__ = ["forgotten_classes", "forgotten_samples"]


def forgotten_classes(records: Iterable[RequestRecord]) -> list[int]:
    """Classes forgotten by committed requests and not relearnt since, sorted.

    ``records`` in execution order (the journal's order: requests run one at a
    time, in submission order).
    """
    forgotten: set[int] = set()
    for record in records:
        if record.status != "committed":
            continue
        if record.kind == "unlearn":
            forgotten.update(record.classes)
        else:
            forgotten.difference_update(record.classes)
    return sorted(forgotten)


def forgotten_samples(records: Iterable[RequestRecord]) -> set[str]:
    """Sample IDs whose labels committed sample-level requests forgot. There is no
    relearning a sample: a customer who withdrew consent stays withdrawn."""
    return {
        sample
        for record in records
        if record.status == "committed" and record.kind == "unlearn"
        for sample in record.samples
    }
