"""Two-party DH-PSI in which both sides learn the intersection, as request/response chunks.

The client (the active party, in vfl) holds IDs X and key a; the server (a
passive party) holds IDs Y and key b; H hashes an ID to the group::

    client -> server   REQUEST   H(x)^a for x in X, in a secret random order
    server -> client   SETUP     H(y)^b for y in Y, in a secret random order
    server -> client   RESPONSE  tag(H(x)^ab), chunk for chunk in REQUEST's order
    client             computes tag(H(y)^ba) from SETUP; x is shared iff its tag is among them
    client -> server   REVEAL    tag(H(y)^ab) in SETUP's order
    server             y is shared iff its tag is among RESPONSE's tags

Each side learns the intersection and the other's set size, nothing else, if
both follow the protocol (semi-honest; docs/psi.md has the security model).
Every message is a list of chunks (:mod:`vfl.psi.wire`) small enough for one
gRPC message; REQUEST chunks can be answered one by one as they arrive.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable

import numpy as np

from vfl.errors import ConfigError, ProtocolError
from vfl.psi import group, ids, wire
from vfl.psi.wire import CHUNK_ITEMS, Kind

__all__ = ["PsiClient", "PsiServer", "intersect"]


def _secret_permutation(n: int) -> list[int]:
    """A uniformly random order of ``range(n)`` from the OS's CSPRNG.

    Sorting by 64-bit random keys is ten times faster than ``SystemRandom().shuffle``
    (one system call instead of one per item: 0.4 s against 4.6 s for 10^6); a tie,
    which only biases the order of the two tied items, has probability below n^2 / 2^65.
    """
    keys = np.frombuffer(os.urandom(8 * n), dtype=np.uint64)
    return np.argsort(keys, kind="stable").tolist()


def _session_bytes(session: str) -> bytes:
    """The session name as hashed, or a :class:`ConfigError` for an unusable one."""
    if isinstance(session, str) and session:
        try:
            return session.encode("utf-8")
        except UnicodeEncodeError:
            pass
    raise ConfigError("a PSI session must be a non-empty string naming this alignment")


class _Side:
    """What client and server share: checked IDs in a secret random order, a fresh key."""

    def __init__(self, sample_ids: Iterable[str], session: str, chunk_items: int) -> None:
        self._session = _session_bytes(session)
        self._chunk_items = wire.check_chunk_items(chunk_items)
        checked = ids.checked_ids(sample_ids)
        raw = ids.encoded(checked)  # before shuffling, so errors name input positions
        order = _secret_permutation(len(checked))  # positions in our messages say nothing
        self._ids = [checked[i] for i in order]
        self._raw = [raw[i] for i in order]
        self._tag = group.session_tag(self._session)
        self._key = group.Key()

    @property
    def size(self) -> int:
        """How many IDs this side holds (the peer learns it too)."""
        return len(self._ids)

    def _own_chunks(self, kind: Kind) -> list[bytes]:
        """This side's IDs hashed and blinded under its key, as chunks of ``kind``."""
        points = group.hash_to_points(self._raw, self._session)
        blinded = self._key.blind(points, what="own IDs")
        return wire.chunks(kind, self._tag, blinded, self._chunk_items)

    def _double_tags(self, what: str) -> Callable[[list[bytes]], list[bytes]]:
        """A converter for the peer's blinded points: blind them again, keep only tags."""
        key = self._key

        def convert(points: list[bytes]) -> list[bytes]:
            return [group.tag(point) for point in key.blind(points, what=what)]

        return convert

    def _matches(self, own_tags: list[bytes], peer_tags: Iterable[bytes]) -> list[str]:
        """Our IDs whose doubly blinded tag (in our message order) the peer also has."""
        theirs = set(peer_tags)
        return sorted(self._ids[i] for i, t in enumerate(own_tags) if t in theirs)


class PsiClient(_Side):
    """The side that asks: sends REQUEST, reads SETUP and RESPONSE, sends REVEAL.

    One client per peer and per alignment: its key must not be reused, or two
    peers could link what they received.
    """

    def __init__(
        self, sample_ids: Iterable[str], session: str, *, chunk_items: int = CHUNK_ITEMS
    ) -> None:
        super().__init__(sample_ids, session, chunk_items)
        self._peer_tags: list[bytes] | None = None

    @property
    def peer_size(self) -> int | None:
        """The server's set size, known once SETUP was read."""
        return None if self._peer_tags is None else len(self._peer_tags)

    def request(self) -> list[bytes]:
        """REQUEST: this side's IDs hashed and blinded, as chunks."""
        return self._own_chunks(Kind.REQUEST)

    def intersection(self, setup: Iterable[bytes], response: Iterable[bytes]) -> list[str]:
        """The shared IDs, sorted, from the server's SETUP and RESPONSE chunks."""
        peer = wire.Assembly(Kind.SETUP, self._tag)
        for chunk in setup:
            peer.add(chunk, self._double_tags("setup"))
        answered = wire.Assembly(Kind.RESPONSE, self._tag, total=self.size)
        for chunk in response:
            answered.add(chunk)
        own_tags = answered.items()
        self._peer_tags = peer.items()
        return self._matches(own_tags, self._peer_tags)

    def reveal(self) -> list[bytes]:
        """REVEAL: the SETUP elements blinded again, so the server can find the intersection."""
        if self._peer_tags is None:
            raise ProtocolError("PSI reveal needs the server's setup: call intersection() first")
        return wire.chunks(Kind.REVEAL, self._tag, self._peer_tags, self._chunk_items)


class PsiServer(_Side):
    """The side that answers: sends SETUP, answers REQUEST chunks, reads REVEAL."""

    def __init__(
        self, sample_ids: Iterable[str], session: str, *, chunk_items: int = CHUNK_ITEMS
    ) -> None:
        super().__init__(sample_ids, session, chunk_items)
        self._requests = wire.Assembly(Kind.REQUEST, self._tag)

    @property
    def peer_size(self) -> int | None:
        """The client's set size, known once a REQUEST chunk arrived."""
        return self._requests.total

    def setup(self) -> list[bytes]:
        """SETUP: this side's IDs hashed and blinded, as chunks."""
        return self._own_chunks(Kind.SETUP)

    def response(self, request: bytes) -> bytes:
        """The RESPONSE chunk for one REQUEST chunk (same start, same length)."""
        frame = self._requests.add(request, self._double_tags("request"))
        return wire.encode(Kind.RESPONSE, self._tag, frame.start, frame.total, frame.items)

    def intersection(self, reveal: Iterable[bytes]) -> list[str]:
        """The shared IDs, sorted, from the client's REVEAL chunks (after every response)."""
        client_tags = self._requests.items()
        revealed = wire.Assembly(Kind.REVEAL, self._tag, total=self.size)
        for chunk in reveal:
            revealed.add(chunk)
        return self._matches(revealed.items(), client_tags)


def intersect(
    a_ids: Iterable[str],
    b_ids: Iterable[str],
    *,
    session: str | None = None,
    chunk_items: int = CHUNK_ITEMS,
) -> list[str]:
    """Both sides of one run in this process: the sorted intersection of two ID sets.

    For the in-process simulation and for tests; it exchanges exactly the chunks
    two processes would, and checks that both sides found the same IDs.
    """
    session = session if session is not None else secrets.token_hex(16)
    client = PsiClient(a_ids, session, chunk_items=chunk_items)
    server = PsiServer(b_ids, session, chunk_items=chunk_items)
    setup = server.setup()
    response = [server.response(chunk) for chunk in client.request()]
    shared = client.intersection(setup, response)
    if server.intersection(client.reveal()) != shared:
        raise ProtocolError("PSI sides disagree on the intersection")  # a bug, never data
    return shared
