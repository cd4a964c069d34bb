"""A passive party's side of private entity alignment (the PSI server, per session).

The active party is the PSI client for every passive party. This object keeps
one alignment session: the party's blinded SETUP chunks, its answers to REQUEST
chunks, the REVEAL chunks, and the intersection it learns from them. The index
the active party later sends (:meth:`check_index`) must lie inside that
intersection: a passive party never trains on an ID it was not shown to share.
"""

from __future__ import annotations

from collections.abc import Sequence

from vfl.data.tables import SampleIndex
from vfl.errors import ProtocolError
from vfl.psi import PsiServer

__all__ = ["MAX_PEER_IDS", "PassiveAlignment"]

MAX_PEER_IDS = 10_000_000
"""The largest ID set a passive party aligns against: a bound on dictionary attacks
(``docs/psi.md``: a peer may put IDs it does not hold into its set) and on memory."""


class PassiveAlignment:
    """One PSI session over the party's own IDs; ``shared`` once the REVEAL is complete."""

    def __init__(self, ids: Sequence[str], session: str, peer_size: int) -> None:
        if not 0 < peer_size <= MAX_PEER_IDS:
            raise ProtocolError(
                f"align: the active party announces {peer_size} IDs; this party aligns "
                f"against 1 to {MAX_PEER_IDS}"
            )
        self.session = session
        self._server = PsiServer(ids, session)
        self._setup = self._server.setup()
        self._reveal: list[bytes] = []
        self.shared: frozenset[str] | None = None

    @property
    def size(self) -> int:
        return self._server.size

    @property
    def setup_chunks(self) -> int:
        return len(self._setup)

    def check_session(self, session: str) -> None:
        if session != self.session:
            raise ProtocolError(f"align: session {session!r} is not the one begun; run `vfl align`")

    def setup_chunk(self, index: int) -> bytes:
        if not 0 <= index < len(self._setup):
            raise ProtocolError(f"align: no setup chunk {index} (there are {len(self._setup)})")
        return self._setup[index]

    def response(self, chunk: bytes) -> bytes:
        return self._server.response(chunk)

    def reveal(self, chunk: bytes, last: bool) -> int | None:
        """Collect a REVEAL chunk; after the ``last`` one, the size of the intersection."""
        if self.shared is not None:
            raise ProtocolError("align: the reveal is already complete")
        self._reveal.append(chunk)
        if not last:
            return None
        self.shared = frozenset(self._server.intersection(self._reveal))
        return len(self.shared)

    def check_index(self, index: SampleIndex) -> None:
        """Every ID the active party sends must be one this party learnt it shares."""
        if self.shared is None:
            raise ProtocolError("set index: the alignment has not finished; run `vfl align`")
        outside = [i for i in index.ids if i not in self.shared]
        if outside:
            raise ProtocolError(
                f"set index: {len(outside)} of {len(index.ids)} IDs are not in this party's "
                "intersection; run `vfl align` again"
            )
