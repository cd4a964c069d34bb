"""Checks on a party's set of sample IDs before it takes part in an alignment.

A PSI run over bad input fails late and obscurely (a duplicated ID is counted
once by the peer and twice here; an ID that cannot be encoded cannot be hashed),
so every set is checked once, at its owner, before anything is computed. Errors
stay on the owner's side: a message may quote one of the owner's own IDs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from vfl.errors import DataError

__all__ = ["checked_ids", "encoded"]


def checked_ids(ids: Iterable[str]) -> list[str]:
    """``ids`` as a list, or a :class:`DataError` saying what is wrong with them.

    IDs must be non-empty strings, unique within the set, and the set must not
    be empty. Strings compare exactly (after UTF-8 encoding, no Unicode
    normalisation): ``"é"`` typed as one code point and as ``e`` plus a
    combining accent are two different IDs, as they are in a CSV file.
    """
    if isinstance(ids, str | bytes):
        raise DataError("sample IDs must be a collection of strings, not a single string")
    out = list(ids)
    if not out:
        raise DataError("the set of sample IDs is empty: there is nothing to align")
    for position, value in enumerate(out):
        if not isinstance(value, str):
            raise DataError(
                f"sample IDs must be strings; the one at position {position} "
                f"is a {type(value).__name__}"
            )
        if not value:
            raise DataError(f"the sample ID at position {position} is an empty string")
    _check_unique(out)
    return out


def _check_unique(ids: list[str]) -> None:
    if len(set(ids)) == len(ids):
        return
    counts = Counter(ids)
    repeated = [value for value, count in counts.items() if count > 1]
    example = repeated[0]
    raise DataError(
        f"{len(repeated)} sample ID(s) appear more than once, e.g. {example!r} "
        f"({counts[example]} times); each ID must name exactly one sample"
    )


def encoded(ids: list[str]) -> list[bytes]:
    """The UTF-8 bytes of each ID (what is hashed), or a :class:`DataError`."""
    out = []
    for position, value in enumerate(ids):
        try:
            out.append(value.encode("utf-8"))
        except UnicodeEncodeError:
            raise DataError(
                f"the sample ID at position {position} is not valid Unicode "
                "(it holds a lone surrogate) and cannot be encoded as UTF-8"
            ) from None
    return out
