"""Bounds on what one operator request may ask of the coordinator, checked before journaling.

An authorised operator can still send absurd input: a 3.5 MB idempotency key
(every later ``ListRequests`` reply then exceeds the message limit), 20 000
training epochs (refused only when the worker starts, long after the id was
printed), or a training batch size the server never uses. Each check here
raises one :class:`~vfl.errors.ConfigError` line (``INVALID_ARGUMENT`` on the
wire) and nothing is journaled.
"""

from __future__ import annotations

from pydantic import ValidationError

from vfl.coordinator import TrainConfig
from vfl.errors import ConfigError

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_IDEMPOTENCY_KEY_CHARS",
    "MAX_PAGE_SIZE",
    "MAX_SAMPLE_IDS",
    "check_idempotency_key",
    "check_page",
    "check_sample_ids",
    "check_train",
]

MAX_IDEMPOTENCY_KEY_CHARS = 128
"""Room for a UUID, a ticket number or a hash in hex; far below any message limit."""
MAX_SAMPLE_IDS = 10_000
"""Samples one sample-level request may forget: a record (and its receipt) stays small."""
MAX_SAMPLE_ID_CHARS = 256
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
"""Requests per ``ListRequests`` page: a page of full records stays well under 1 MiB."""


def check_idempotency_key(key: str) -> str:
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise ConfigError(
            f"the idempotency key has {len(key)} characters; at most "
            f"{MAX_IDEMPOTENCY_KEY_CHARS} are allowed"
        )
    if key and not key.isprintable():
        raise ConfigError("the idempotency key must be printable text")
    return key


def check_train(epochs: int, batch_size: int = 0, lr: float = 0.0) -> int:
    """``epochs`` if the server's training config accepts it; batch size and rate stay the server's.

    ``batch_size`` and ``lr`` exist in the wire message but are set when the
    active party starts (``vfl serve active --batch-size/--lr``): a request
    that sets them (even to a negative value) is refused rather than run with
    other settings than it asked for.
    """
    if batch_size or lr:
        raise ConfigError(
            "batch_size and lr are the server's settings (vfl serve active --batch-size, --lr); "
            "leave them unset (0) in a train request"
        )
    bounds = TrainConfig.model_fields["epochs"].metadata
    try:
        TrainConfig(epochs=epochs)
    except ValidationError:
        low = next(b.ge for b in bounds if hasattr(b, "ge"))
        high = next(b.le for b in bounds if hasattr(b, "le"))
        raise ConfigError(f"epochs must be from {low} to {high} (got {epochs})") from None
    return epochs


def check_page(token: str, size: int) -> tuple[int, int]:
    """``(offset, limit)`` of a ``ListRequests`` page: the token is the offset of its first row.

    Rows are only ever appended (in journal order), so an offset names the same
    row on every call. ``size`` 0 is the default page; larger than the maximum
    is capped to it.
    """
    if size < 0:
        raise ConfigError(f"page_size must not be negative (got {size})")
    if token and not (token.isdigit() and len(token) <= 18):
        raise ConfigError(f"page_token {token[:40]!r} is not one this coordinator gave out")
    return int(token or 0), min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def check_sample_ids(ids: list[str]) -> list[str]:
    """Sorted, distinct, bounded sample IDs (before anything looks them up)."""
    if len(ids) > MAX_SAMPLE_IDS:
        raise ConfigError(
            f"{len(ids)} samples in one request; at most {MAX_SAMPLE_IDS} (send several requests)"
        )
    if any(len(i) > MAX_SAMPLE_ID_CHARS or not i for i in ids):
        raise ConfigError(f"a sample ID is empty or longer than {MAX_SAMPLE_ID_CHARS} characters")
    if len(set(ids)) != len(ids):
        raise ConfigError("a sample is named twice; name each sample once")
    return sorted(ids)
