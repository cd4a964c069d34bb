"""Private set intersection for entity alignment, transport-free.

Before training, the active party and each passive party find the sample IDs
they share without showing each other any other ID: :class:`PsiClient` (the
active party) and :class:`PsiServer` (a passive party) exchange lists of byte
chunks that any transport can carry; :func:`intersect` runs both sides in one
process. The federation's sample index is the intersection of the active
party's pairwise results. Protocol, security model and library choice:
``docs/psi.md``.
"""

from vfl.psi.protocol import PsiClient, PsiServer, intersect
from vfl.psi.wire import CHUNK_ITEMS, MAX_CHUNK_BYTES

__all__ = ["CHUNK_ITEMS", "MAX_CHUNK_BYTES", "PsiClient", "PsiServer", "intersect"]
