"""The group operations of DH-PSI, all from libsodium's ristretto255 (via ``rbcl``).

Nothing cryptographic is implemented here: hashing to the group is libsodium's
``crypto_core_ristretto255_from_hash`` over SHA-512 (as libsodium's documentation
recommends), blinding is ``crypto_scalarmult_ristretto255`` with a scalar from
``crypto_core_ristretto255_scalar_random``, and comparison tags are BLAKE2b. This
module only fixes the domain-separation strings and turns the library's errors
into vfl's.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import struct
import sys
from collections.abc import Sequence
from types import ModuleType

from vfl.errors import WireFormatError

__all__ = ["POINT_BYTES", "TAG_BYTES", "Key", "hash_to_points", "session_tag", "tag"]

POINT_BYTES = 32
"""One encoded ristretto255 element."""

TAG_BYTES = 16
"""A comparison tag: false matches have probability ``n * m / 2**128`` per alignment."""

_HASH_DOMAIN = b"vfl/psi/v1/hash-to-group\x00"
_SESSION_DOMAIN = b"vfl/psi/v1/session\x00"
_TAG_PERSON = b"vfl-psi-v1-tag"  # BLAKE2b personalisation, at most 16 bytes


@functools.cache
def _sodium() -> ModuleType:
    """``rbcl``, imported on the first group operation, not when vfl.psi is imported.

    rbcl ships libsodium inside a Python module and, on import, writes it to a
    new temporary file (~2.7 MB) that it loads and never removes. Every party
    process imports this package (its messages name the chunk size), and one
    that never aligns must not need that much free temp space: a party under a
    file-size limit used to die at start-up. Once loaded, the file is deleted
    (POSIX keeps the mapping valid; where unlinking a loaded library fails, it stays).
    """
    import rbcl

    path = getattr(sys.modules.get("rbcl._sodium"), "lib_path", None)
    if isinstance(path, str):
        with contextlib.suppress(OSError):
            os.unlink(path)
    return rbcl


def session_prefix(session: bytes) -> bytes:
    """What is hashed before every ID: the domain, then the session, length-prefixed.

    The session ties every group element to one alignment, so elements from
    different alignments are unrelated even for the same ID and the same keys.
    """
    return _HASH_DOMAIN + struct.pack(">I", len(session)) + session


def session_tag(session: bytes) -> bytes:
    """A 16-byte name of the session carried by every message, to refuse mixed-up runs."""
    return hashlib.sha256(_SESSION_DOMAIN + session).digest()[:16]


def hash_to_points(ids: Sequence[bytes], session: bytes) -> list[bytes]:
    """H(id) for every ID: SHA-512 of the session prefix and the ID, mapped to the group."""
    base = hashlib.sha512(session_prefix(session))
    from_hash = _sodium().crypto_core_ristretto255_from_hash
    points = []
    for raw in ids:
        digest = base.copy()
        digest.update(raw)
        points.append(from_hash(digest.digest()))
    return points


def tag(point: bytes) -> bytes:
    """The comparison value of a doubly blinded element (shorter than the element)."""
    return hashlib.blake2b(point, digest_size=TAG_BYTES, person=_TAG_PERSON).digest()


class Key:
    """One party's secret scalar for one alignment; it never leaves this object.

    A fresh key per alignment and per peer is what makes two runs unlinkable:
    the same ID blinded under two keys gives unrelated bytes.
    """

    def __init__(self) -> None:
        self._scalar = _sodium().crypto_core_ristretto255_scalar_random()

    def __repr__(self) -> str:
        return "Key(<secret>)"

    def blind(self, points: Sequence[bytes], *, what: str) -> list[bytes]:
        """Each point times the secret scalar; a peer's invalid element is a wire error.

        ``what`` names the points in the error (e.g. ``"request"``). libsodium
        refuses bytes that are not the canonical encoding of a ristretto255
        element and a product that would be the identity (the zero element), so a
        peer cannot make this key act on junk.
        """
        multiply = _sodium().crypto_scalarmult_ristretto255
        scalar = self._scalar
        out = []
        for position, point in enumerate(points):
            try:
                out.append(multiply(scalar, point))
            except (RuntimeError, ValueError, TypeError):
                raise WireFormatError(
                    f"{what}: item {position} is not a valid ristretto255 element"
                ) from None
        return out
