"""Bounds on what one operator request may ask of the coordinator, checked before journaling.

An authorised operator can still send absurd input: a 3.5 MB idempotency key
(every later ``ListRequests`` reply then exceeds the message limit), 20 000
training epochs (refused only when the worker starts, long after the id was
printed), or a training batch size the server never uses. Each check here
raises one :class:`~vfl.errors.ConfigError` line (``INVALID_ARGUMENT`` on the
wire) and nothing is journaled.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import ValidationError

from vfl.coordinator import TrainConfig
from vfl.errors import ConfigError
from vfl.txn.records import REQUEST_UNLEARN_SETTINGS
from vfl.unlearning import UnlearnConfig, create_method, get_method

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_IDEMPOTENCY_KEY_CHARS",
    "MAX_METHOD_OPTIONS_CHARS",
    "MAX_PAGE_SIZE",
    "MAX_SAMPLE_IDS",
    "apply_unlearn_config",
    "check_idempotency_key",
    "check_method_options",
    "check_page",
    "check_sample_ids",
    "check_train",
    "check_unlearn_config",
]

MAX_IDEMPOTENCY_KEY_CHARS = 128
"""Room for a UUID, a ticket number or a hash in hex; far below any message limit."""
MAX_SAMPLE_IDS = 10_000
"""Samples one sample-level request may forget: a record (and its receipt) stays small."""
MAX_SAMPLE_ID_CHARS = 256
MAX_METHOD_OPTIONS_CHARS = 1024
"""A method's settings (or a request's unlearn settings) as JSON: a handful of numbers
and names. Bounded because every ``ListRequests`` row carries them."""
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


def check_method_options(method: str, text: str) -> dict[str, Any]:
    """``text`` (a JSON object) as ``method``'s ``options_model`` reads it, only the keys given.

    Checked at submission, so a mistyped option is refused before anything is
    journaled rather than when the request's turn comes; normalised (``3`` is
    ``3.0`` for a float setting), so resubmitting the same settings under one
    idempotency key matches. Values must be finite: the receipt is strict JSON.
    """
    options = _json_object(text, "method options")
    if not options:
        return {}
    create_method(method, options)  # an unknown key, a bad value, a method without options
    model = get_method(method).options_model
    assert model is not None  # create_method refused options for a method without a model
    checked = model.model_validate(options).model_dump(mode="json", exclude_unset=True)
    _require_finite(method, checked)
    return checked


def check_unlearn_config(text: str, server: UnlearnConfig) -> dict[str, Any]:
    """``text`` (a JSON object of :data:`REQUEST_UNLEARN_SETTINGS` keys) as checked against
    the ``server``'s settings; only the keys given.

    Checked at submission, like the method options, so ``--unlearn-epochs 0`` is
    refused before anything is journaled; normalised (``1`` is ``1.0`` for ``lr``)
    so a resubmission under the same idempotency key matches. Only the overrides
    are kept: the request runs with whatever the server's settings are then.
    """
    overrides = _json_object(text, "unlearn settings")
    if not overrides:
        return {}
    unknown = sorted(set(overrides) - set(REQUEST_UNLEARN_SETTINGS))
    if unknown:
        allowed = ", ".join(f"{k} ({flag})" for k, flag in sorted(REQUEST_UNLEARN_SETTINGS.items()))
        raise ConfigError(f"unknown unlearn setting {unknown[0]!r}; a request may set: {allowed}")
    applied = apply_unlearn_config(server, overrides)
    return applied.model_dump(mode="json", include=set(overrides))


def apply_unlearn_config(server: UnlearnConfig, overrides: dict[str, Any]) -> UnlearnConfig:
    """The ``server``'s settings with a request's ``overrides``, validated as a whole.

    ``model_copy(update=...)`` alone would skip validation; strict, so ``true`` or
    ``"3"`` is no epoch count. A bad value is one line naming the setting and its flag.
    """
    try:
        return UnlearnConfig.model_validate(
            server.model_copy(update=overrides).model_dump(warnings=False), strict=True
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else "?"
        flag = REQUEST_UNLEARN_SETTINGS.get(field, "")
        got = json.dumps(first.get("input"), default=str)[:60]
        raise ConfigError(
            f"invalid unlearn setting {field!r}{f' ({flag})' if flag else ''}: "
            f"{first['msg']} (got {got})"
        ) from None


def _json_object(text: str, what: str) -> dict[str, Any]:
    """``text`` as a JSON object (``""``: none): bounded, as every ``ListRequests`` row
    carries it."""
    if not text:
        return {}
    if len(text) > MAX_METHOD_OPTIONS_CHARS:
        raise ConfigError(
            f"the {what} have {len(text)} characters; at most "
            f"{MAX_METHOD_OPTIONS_CHARS} are allowed"
        )
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"the {what} are not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"the {what} must be a JSON object of KEY: VALUE")
    return value


def _require_finite(method: str, options: dict[str, Any], prefix: str = "") -> None:
    for key, value in options.items():
        if isinstance(value, dict):
            _require_finite(method, value, f"{prefix}{key}.")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(
                f"invalid option {prefix + key!r} for method {method!r}: "
                f"must be a finite number (got {value})"
            )
