"""Signed receipts: proof, checkable offline, of what a committed request did.

A receipt is a JSON object ``{"payload": {...}, "algorithm": "Ed25519",
"key_id": ..., "signature": ...}``. The signature covers the canonical JSON of
the payload (sorted keys, no spaces), so any change to any field, or a
signature made by another key, fails :func:`verify_receipt`.
:func:`receipt_payload` picks what a receipt vouches for from a
:class:`~vfl.txn.records.RequestRecord`; :class:`ReceiptSigner` is the
coordinator's signer, with its key kept in the state dir. Verifying needs
only the payload, the signature and the public key (``vfl receipt verify``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vfl.errors import VFLError
from vfl.txn.records import RequestRecord

__all__ = [
    "ALGORITHM",
    "PRIVATE_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "RECEIPT_VERSION",
    "ReceiptError",
    "ReceiptSigner",
    "canonical_json",
    "key_id",
    "load_or_create_key",
    "load_public_key",
    "parse_receipt",
    "read_private_key",
    "read_receipt",
    "receipt_payload",
    "sign_receipt",
    "verify_receipt",
]

ALGORITHM = "Ed25519"
PRIVATE_KEY_FILE = "coordinator.key.pem"
PUBLIC_KEY_FILE = "coordinator.pub.pem"
RECEIPT_VERSION = 1


class ReceiptError(VFLError):
    """A receipt that is malformed, tampered with, or signed by another key."""


def canonical_json(obj: Any) -> bytes:
    """The one byte encoding that is signed: sorted keys, no whitespace, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(public_key: Ed25519PublicKey) -> str:
    """Short fingerprint of a public key, so a receipt names the key that signed it."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign_receipt(payload: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    signature = key.sign(canonical_json(payload))
    return {
        "payload": payload,
        "algorithm": ALGORITHM,
        "key_id": key_id(key.public_key()),
        "signature": base64.b64encode(signature).decode(),
    }


def verify_receipt(receipt: Any, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """Return the payload if ``receipt`` was signed by ``public_key`` and is unchanged."""
    if not isinstance(receipt, dict) or not isinstance(receipt.get("payload"), dict):
        raise ReceiptError("not a receipt: expected a JSON object with a 'payload' object")
    if receipt.get("algorithm") != ALGORITHM:
        raise ReceiptError(f"unsupported algorithm {receipt.get('algorithm')!r}")
    if receipt.get("key_id") != key_id(public_key):
        raise ReceiptError("receipt was signed by another key (key_id does not match)")
    try:
        signature = base64.b64decode(str(receipt.get("signature", "")), validate=True)
        public_key.verify(signature, canonical_json(receipt["payload"]))
    except (InvalidSignature, ValueError):
        raise ReceiptError(
            "invalid signature: the receipt was altered or not signed by this key"
        ) from None
    return receipt["payload"]


def read_receipt(path: Path) -> Any:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ReceiptError(f"cannot read receipt {path}: {exc}") from exc
    return parse_receipt(text, str(path))


def parse_receipt(text: str, source: str = "receipt") -> Any:
    """Strict JSON: a duplicated key or a NaN/Infinity is refused, not resolved.

    ``json.loads`` keeps the last of two equal keys, so a receipt showing
    ``"status": "aborted", "status": "committed"`` would verify while a reader
    (or another parser, which may keep the first) sees "aborted". What
    verifies must be what everyone reads.
    """
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except ValueError as exc:
        raise ReceiptError(f"cannot read {source}: {exc}") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    if duplicated:
        raise ValueError(f"duplicate key {duplicated[0]!r} (a receipt must be unambiguous)")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_or_create_key(state_dir: Path) -> Ed25519PrivateKey:
    """The coordinator's signing key in ``state_dir``; made (mode 0600) on first use.

    The public half is written next to it as PEM for verifiers, once: an
    existing ``coordinator.pub.pem`` is never replaced. It is what verifies the
    receipts already handed out, so a missing private key beside it, or one it
    does not match, stops the coordinator instead of signing with a new key.
    """
    state_dir = Path(state_dir)
    private_path, public_path = state_dir / PRIVATE_KEY_FILE, state_dir / PUBLIC_KEY_FILE
    if private_path.exists():
        key = read_private_key(private_path)
    elif public_path.exists():
        raise ReceiptError(
            f"the signing key {private_path} is missing but its public key {public_path} is "
            "there: restore the key from a backup (a new key would not verify the receipts "
            "already issued)"
        )
    else:
        key = _create_private_key(private_path)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if not public_path.exists():
        public_path.write_bytes(public_pem)
    elif public_path.read_bytes() != public_pem:
        raise ReceiptError(
            f"{public_path} is not the public key of {private_path}: restore the matching "
            "pair from a backup (the public key file is never replaced)"
        )
    return key


def read_private_key(path: Path) -> Ed25519PrivateKey:
    """The signing key at ``path``; a bad file is one :class:`ReceiptError` line."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ReceiptError(
            f"cannot read the signing key {path}: {exc}; restore it from a backup "
            "(a new key would not verify the receipts already issued)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ReceiptError(f"{path} is not an Ed25519 private key")
    return key


def _create_private_key(path: Path) -> Ed25519PrivateKey:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise ReceiptError(f"cannot read public key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ReceiptError(f"{path} is not an Ed25519 public key")
    return key


def receipt_payload(record: RequestRecord) -> dict[str, Any]:
    """The request, its classes (or samples) and method (with its options), per-party
    digests before/after, metrics, times. ``samples`` appears only in sample-level
    receipts, ``params.method_options`` only when options were given and
    ``params.unlearn_config`` only when a setting was overridden (``--unlearn-epochs``),
    so a receipt without them reads as it always did."""
    out = {
        "receipt_version": RECEIPT_VERSION,
        "request_id": record.id,
        "kind": record.kind,
        "status": record.status,
        "classes": record.classes,
        "method": record.method,
        "params": {"epochs": record.epochs},  # and options and settings, when given
        "digests_before": record.digests_before,
        "digests_after": record.digests_after,
        "metrics": {"before": record.before, "after": record.after},
        "times": {
            "created_at": record.created_at,
            "started_at": record.started_at,
            "finished_at": record.finished_at,
        },
    }
    if record.samples:
        out["samples"] = record.samples
    if record.method_options:
        out["params"]["method_options"] = record.method_options
    if record.unlearn_config:
        out["params"]["unlearn_config"] = record.unlearn_config
    return out


class ReceiptSigner:
    """Signs receipts with the Ed25519 key kept in the coordinator's state dir."""

    def __init__(self, state_dir: Path) -> None:
        self._key = load_or_create_key(state_dir)
        self.key_path = Path(state_dir) / PRIVATE_KEY_FILE

    def sign(self, record: RequestRecord) -> dict[str, Any]:
        return sign_receipt(receipt_payload(record), self._key)
