"""End-to-end encryption between the active party and each passive party.

Flower's SuperLink relays every message, so it must learn nothing from them.
Each party owns a static X25519 key pair; each side pins the other's public
key (files exchanged out of band, like SSH host keys). Per session both sides
send a fresh 32-byte nonce in the clear; the session keys are

    HKDF-SHA256(X25519(own_private, peer_public),
                salt = active_nonce || passive_nonce,
                info = "vfl-flower/1" | party id | run id | both public keys)

split into one ChaCha20-Poly1305 key per direction. Only holders of the pinned
private keys can derive them, so a relay that swaps the nonces or the keys
cannot read or forge messages (no unauthenticated Diffie-Hellman to
man-in-the-middle). Every message carries a sequence number that is the
AEAD nonce and is bound, with the direction, party id and message kind, into
the associated data; the receiver accepts only increasing numbers, so a
replayed, reordered or redirected message fails just like a tampered one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from vfl.errors import ConfigError, VFLError

__all__ = [
    "NONCE_BYTES",
    "CryptoError",
    "SecureChannel",
    "derive_channel",
    "fresh_nonce",
    "generate_keypair",
    "load_private_key",
    "load_public_key",
    "public_bytes",
]

NONCE_BYTES = 32
KEY_BYTES = 32
_INFO = b"vfl-flower/1"
_ACTIVE, _PASSIVE = b"A2P\x00", b"P2A\x00"


class CryptoError(VFLError):
    """A message failed authentication: tampered, wrong key, replayed or misdirected."""


def public_bytes(key: X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def fresh_nonce() -> bytes:
    return os.urandom(NONCE_BYTES)


def generate_keypair(directory: Path, name: str) -> X25519PublicKey:
    """Write ``name.key`` (private, mode 0600) and ``name.pub`` under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    private = X25519PrivateKey.generate()
    key_path = directory / f"{name}.key"
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(private.private_bytes_raw())
    (directory / f"{name}.pub").write_bytes(public_bytes(private.public_key()))
    return private.public_key()


def _read_raw(path: Path, what: str) -> bytes:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from exc
    if len(raw) != KEY_BYTES:
        raise ConfigError(f"{what} {path} must hold {KEY_BYTES} raw bytes, got {len(raw)}")
    return raw


def load_private_key(path: Path) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(_read_raw(path, "X25519 private key"))


def load_public_key(path: Path) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(_read_raw(path, "X25519 public key"))


@dataclass
class SecureChannel:
    """One authenticated, encrypted, replay-protected session with one peer."""

    label: bytes
    send_key: bytes
    recv_key: bytes
    send_dir: bytes
    recv_dir: bytes
    sent: int = 0
    received: int = 0

    def _aad(self, direction: bytes, seq: int, kind: str) -> bytes:
        return b"|".join([direction, self.label, kind.encode(), str(seq).encode()])

    def seal(self, plaintext: bytes, kind: str) -> tuple[int, bytes]:
        """Encrypt ``plaintext``; returns the sequence number to send with it."""
        self.sent += 1
        nonce = self.send_dir + self.sent.to_bytes(8, "big")
        aad = self._aad(self.send_dir, self.sent, kind)
        return self.sent, ChaCha20Poly1305(self.send_key).encrypt(nonce, plaintext, aad)

    def open(self, seq: int, ciphertext: bytes, kind: str) -> bytes:
        """Decrypt and authenticate; raises :class:`CryptoError` on any mismatch."""
        if not 0 < seq < 1 << 63 or seq <= self.received:
            raise CryptoError(
                f"message {seq} replayed or out of order (last accepted: {self.received})"
            )
        nonce = self.recv_dir + seq.to_bytes(8, "big")
        try:
            plaintext = ChaCha20Poly1305(self.recv_key).decrypt(
                nonce, ciphertext, self._aad(self.recv_dir, seq, kind)
            )
        except InvalidTag:
            raise CryptoError(
                "message failed authentication: tampered, encrypted under another key, "
                "or meant for another party or message kind"
            ) from None
        self.received = seq
        return plaintext


def derive_channel(
    *,
    private: X25519PrivateKey,
    peer: X25519PublicKey,
    active: bool,
    active_nonce: bytes,
    passive_nonce: bytes,
    party_id: str,
    run_id: int,
) -> SecureChannel:
    """The session with ``peer``; both sides call this with the same nonces and ids."""
    if len(active_nonce) != NONCE_BYTES or len(passive_nonce) != NONCE_BYTES:
        raise CryptoError(f"session nonces must be {NONCE_BYTES} bytes")
    own, other = public_bytes(private.public_key()), public_bytes(peer)
    active_pub, passive_pub = (own, other) if active else (other, own)
    label = b"|".join([party_id.encode(), str(run_id).encode()])
    okm = HKDF(
        algorithm=hashes.SHA256(),
        length=2 * KEY_BYTES,
        salt=active_nonce + passive_nonce,
        info=b"|".join([_INFO, label, active_pub, passive_pub]),
    ).derive(private.exchange(peer))
    a2p, p2a = okm[:KEY_BYTES], okm[KEY_BYTES:]
    if active:
        return SecureChannel(label, a2p, p2a, _ACTIVE, _PASSIVE)
    return SecureChannel(label, p2a, a2p, _PASSIVE, _ACTIVE)
