"""Sealed sessions between the active party and one passive party."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from vfl.errors import ConfigError
from vfl.flower.crypto import (
    CryptoError,
    SecureChannel,
    derive_channel,
    fresh_nonce,
    generate_keypair,
    load_private_key,
    load_public_key,
)


def _pair(
    keys: Path, party: str = "p0", run_id: int = 7, active_peer: str | None = None
) -> tuple[SecureChannel, SecureChannel]:
    """Both ends of a session; ``active_peer`` makes the active side pin another key."""
    a_nonce, p_nonce = fresh_nonce(), fresh_nonce()
    active = derive_channel(
        private=load_private_key(keys / "active.key"),
        peer=load_public_key(keys / f"{active_peer or party}.pub"),
        active=True,
        active_nonce=a_nonce,
        passive_nonce=p_nonce,
        party_id=party,
        run_id=run_id,
    )
    passive = derive_channel(
        private=load_private_key(keys / f"{party}.key"),
        peer=load_public_key(keys / "active.pub"),
        active=False,
        active_nonce=a_nonce,
        passive_nonce=p_nonce,
        party_id=party,
        run_id=run_id,
    )
    return active, passive


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    for name in ("active", "p0", "p1", "mallory"):
        generate_keypair(tmp_path, name)
    return tmp_path


def test_both_directions_round_trip(keys: Path) -> None:
    active, passive = _pair(keys)
    seq, ct = active.seal(b"embed these ids", "vfl")
    assert b"embed" not in ct
    assert passive.open(seq, ct, "vfl") == b"embed these ids"
    seq, ct = passive.seal(b"embeddings", "vfl")
    assert active.open(seq, ct, "vfl") == b"embeddings"


def test_same_plaintext_never_repeats_ciphertext(keys: Path) -> None:
    active, _ = _pair(keys)
    assert active.seal(b"x" * 64, "vfl")[1] != active.seal(b"x" * 64, "vfl")[1]


@pytest.mark.parametrize("position", [0, 10, -1])
def test_any_flipped_bit_is_detected(keys: Path, position: int) -> None:
    active, passive = _pair(keys)
    seq, ct = active.seal(b"gradient bytes " * 4, "vfl")
    tampered = bytearray(ct)
    tampered[position] ^= 0x01
    with pytest.raises(CryptoError, match="authentication"):
        passive.open(seq, bytes(tampered), "vfl")


def test_a_relay_holding_its_own_key_cannot_read_or_forge(keys: Path) -> None:
    # the active side was tricked into pinning mallory's key for p0
    active, passive = _pair(keys, active_peer="mallory")
    seq, ct = active.seal(b"secret", "vfl")
    with pytest.raises(CryptoError):
        passive.open(seq, ct, "vfl")


def test_replay_and_reordering_are_rejected(keys: Path) -> None:
    active, passive = _pair(keys)
    first = active.seal(b"one", "vfl")
    second = active.seal(b"two", "vfl")
    assert passive.open(*second, "vfl") == b"two"
    with pytest.raises(CryptoError, match="replayed or out of order"):
        passive.open(*first, "vfl")
    with pytest.raises(CryptoError, match="replayed"):
        passive.open(*second, "vfl")


def test_a_message_cannot_be_redirected(keys: Path) -> None:
    active, passive = _pair(keys)
    seq, ct = active.seal(b"for p0", "vfl")
    with pytest.raises(CryptoError):
        passive.open(seq, ct, "hello")  # another message kind
    with pytest.raises(CryptoError):
        passive.open(seq + 1, ct, "vfl")  # another sequence number
    # the passive party's own direction uses another key and nonce prefix
    with pytest.raises(CryptoError):
        active.open(seq, ct, "vfl")


def test_sessions_of_other_runs_or_parties_do_not_share_keys(keys: Path) -> None:
    active, _ = _pair(keys, run_id=1)
    _, other_run = _pair(keys, run_id=2)
    seq, ct = active.seal(b"x", "vfl")
    with pytest.raises(CryptoError):
        other_run.open(seq, ct, "vfl")


def test_private_key_file_is_owner_only_and_sizes_are_checked(keys: Path) -> None:
    assert stat.S_IMODE((keys / "p0.key").stat().st_mode) == 0o600
    (keys / "short.pub").write_bytes(b"abc")
    with pytest.raises(ConfigError, match="32 raw bytes"):
        load_public_key(keys / "short.pub")
    with pytest.raises(ConfigError, match="cannot read"):
        load_private_key(keys / "missing.key")
