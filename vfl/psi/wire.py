"""The byte format of PSI messages: self-describing chunks that fit one gRPC message.

A PSI message (all of one side's blinded elements, say) is a list of *chunks*.
Each chunk is a fixed header then a run of equal-sized items::

    magic "VPSI" | version u8 | kind u8 | session tag 16 B | start u64 | total u64 | items

``start`` is the position of the chunk's first item in the whole message and
``total`` the message's item count, so chunks can travel as separate RPCs, in
any order, and the receiver knows when it has them all. ``total`` is the
sender's set size, which DH-PSI reveals anyway. Nothing else is in a chunk: no
ID, no count of matches, no key.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from vfl.errors import ConfigError, ProtocolError, WireFormatError
from vfl.psi.group import POINT_BYTES, TAG_BYTES

__all__ = [
    "CHUNK_ITEMS",
    "MAX_CHUNK_BYTES",
    "MAX_CHUNK_ITEMS",
    "Assembly",
    "Frame",
    "Kind",
    "check_chunk_items",
    "chunks",
    "decode",
    "encode",
]

MAGIC = b"VPSI"
VERSION = 1
_HEADER = struct.Struct(">4sBB16sQQ")

MAX_CHUNK_BYTES = 4 * 1024 * 1024 - 64 * 1024
"""gRPC's default limit for a received message (4 MiB), less room for the envelope."""

MAX_CHUNK_ITEMS = (MAX_CHUNK_BYTES - _HEADER.size) // POINT_BYTES
"""The most group elements one chunk may hold (129,022)."""

CHUNK_ITEMS = 65_536
"""Items per chunk by default: 2 MiB of group elements, half the gRPC limit."""


class Kind(IntEnum):
    """The four messages of a run, in the order they are made."""

    REQUEST = 1  # client -> server: the client's IDs, hashed and blinded by the client
    SETUP = 2  # server -> client: the server's IDs, hashed and blinded by the server
    RESPONSE = 3  # server -> client: tags of the request, blinded again by the server
    REVEAL = 4  # client -> server: tags of the setup, blinded again by the client

    @property
    def item_bytes(self) -> int:
        return POINT_BYTES if self in (Kind.REQUEST, Kind.SETUP) else TAG_BYTES


def check_chunk_items(chunk_items: int) -> int:
    """``chunk_items`` if a chunk of that many group elements fits one gRPC message."""
    if not isinstance(chunk_items, int) or not 1 <= chunk_items <= MAX_CHUNK_ITEMS:
        raise ConfigError(
            f"chunk_items must be an integer from 1 to {MAX_CHUNK_ITEMS} "
            f"(a chunk must fit {MAX_CHUNK_BYTES} bytes); got {chunk_items!r}"
        )
    return chunk_items


@dataclass(frozen=True)
class Frame:
    """One decoded chunk."""

    kind: Kind
    start: int
    total: int
    items: list[bytes]


def encode(kind: Kind, session_tag: bytes, start: int, total: int, items: Sequence[bytes]) -> bytes:
    """One chunk: ``items`` are the message's items from position ``start`` on."""
    return _HEADER.pack(MAGIC, VERSION, kind, session_tag, start, total) + b"".join(items)


def chunks(kind: Kind, session_tag: bytes, items: Sequence[bytes], chunk_items: int) -> list[bytes]:
    """``items`` (the whole message) as encoded chunks of at most ``chunk_items`` items."""
    total = len(items)
    return [
        encode(kind, session_tag, start, total, items[start : start + chunk_items])
        for start in range(0, total, chunk_items)
    ]


def decode(message: bytes, kind: Kind, session_tag: bytes) -> Frame:
    """The chunk in ``message``, checked to be a well-formed chunk of ``kind`` in this session."""
    if not isinstance(message, bytes | bytearray | memoryview):
        raise WireFormatError(f"a PSI {kind.name} chunk must be bytes")
    message = bytes(message)
    if not _HEADER.size <= len(message) <= MAX_CHUNK_BYTES:
        raise WireFormatError(
            f"a PSI chunk is {_HEADER.size} to {MAX_CHUNK_BYTES} bytes; got {len(message)}"
        )
    magic, version, got_kind, got_session, start, total = _HEADER.unpack_from(message)
    if magic != MAGIC or version != VERSION:
        raise WireFormatError("not a PSI chunk of this version (bad magic or version)")
    if got_kind != kind:
        raise ProtocolError(f"expected a PSI {kind.name} chunk, got {_kind_name(got_kind)}")
    if got_session != session_tag:
        raise ProtocolError("this PSI chunk belongs to another alignment session")
    payload = memoryview(message)[_HEADER.size :]
    size = kind.item_bytes
    count, rest = divmod(len(payload), size)
    if rest or count == 0 or start + count > total:
        raise WireFormatError(
            f"malformed PSI {kind.name} chunk: {len(payload)} payload bytes "
            f"at item {start} of {total} ({size}-byte items)"
        )
    items = [bytes(payload[i : i + size]) for i in range(0, count * size, size)]
    return Frame(kind, start, total, items)


def _kind_name(value: int) -> str:
    try:
        return Kind(value).name
    except ValueError:
        return f"unknown kind {value}"


class Assembly:
    """The chunks of one message, received in any order, with a check that all came.

    ``add`` can transform each chunk's items as it arrives (blind them, say), so
    the receiver keeps only what it needs; ``items`` returns the transformed
    items in message order.
    """

    def __init__(self, kind: Kind, session_tag: bytes, *, total: int | None = None) -> None:
        self.kind = kind
        self._session_tag = session_tag
        self._total = total
        self._parts: dict[int, list[bytes]] = {}
        self._received = 0

    @property
    def total(self) -> int | None:
        """The message's item count (the sender's set size), once a chunk has arrived."""
        return self._total

    def add(
        self, message: bytes, convert: Callable[[list[bytes]], list[bytes]] | None = None
    ) -> Frame:
        """Decode, check and keep one chunk; returns it with its items converted."""
        frame = decode(message, self.kind, self._session_tag)
        name = self.kind.name
        if self._total is None:
            self._total = frame.total
        elif frame.total != self._total:
            raise ProtocolError(
                f"PSI {name} chunk says the message has {frame.total} items; expected {self._total}"
            )
        if frame.start in self._parts:
            raise ProtocolError(f"PSI {name} chunk at item {frame.start} arrived twice")
        if self._received + len(frame.items) > self._total:
            raise ProtocolError(f"PSI {name} chunks hold more than the {self._total} items")
        items = frame.items if convert is None else convert(frame.items)
        self._parts[frame.start] = items
        self._received += len(items)
        return Frame(frame.kind, frame.start, frame.total, items)

    def items(self) -> list[bytes]:
        """Every item in message order, or a :class:`ProtocolError` if chunks are missing."""
        if self._total is None or self._received != self._total:
            raise ProtocolError(
                f"PSI {self.kind.name} is incomplete: {self._received} of "
                f"{self._total if self._total is not None else '?'} items received"
            )
        out: list[bytes] = []
        for start in sorted(self._parts):
            if start != len(out):
                raise ProtocolError(f"PSI {self.kind.name} chunks overlap at item {start}")
            out.extend(self._parts[start])
        return out
