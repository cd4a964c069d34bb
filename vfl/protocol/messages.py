"""Every operation a passive party offers, as one typed request and its response.

This module *is* the passive-party API. A request is a frozen dataclass that
names its response type and says how a party carries it out (:meth:`apply`);
transports never look inside: :mod:`vfl.protocol.fields` turns any message into
scalars and arrays by its annotations, and the gRPC and Flower codecs move those.

Adding an operation: a request (and, if it answers with something new, a
response) here, the method on :class:`~vfl.party.passive.PassiveParty`, and a
field in ``protos/vfl/v1/passive.proto``'s ``Operation`` (then
``python scripts/gen_protos.py``). Nothing else changes.

Field types are the whole vocabulary a passive party can receive: sample IDs,
embedding matrices, optimizer settings, seeds, trial and request tokens and
version numbers. None can carry a label, a class id or a loss;
``tests/grpc/test_contract.py`` and ``tests/party/test_privacy_inprocess.py``
check both the wire and the in-process view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import numpy as np
import torch

from vfl.data.tables import SampleIndex
from vfl.party.optim import UpdateConfig
from vfl.party.passive import PartyInfo

if TYPE_CHECKING:
    from vfl.party.passive import PassiveParty

__all__ = [
    "REQUESTS",
    "RESPONSES",
    "Abort",
    "AlignBegin",
    "AlignChunk",
    "AlignRequest",
    "AlignReveal",
    "AlignSetup",
    "AlignSetupChunk",
    "Aligned",
    "Backward",
    "Begin",
    "Chunk",
    "Commit",
    "Configure",
    "Done",
    "Embed",
    "Embeddings",
    "Ids",
    "Info",
    "KeepTrial",
    "Matrix",
    "Message",
    "OpenTrial",
    "PartyInfoResponse",
    "Prepare",
    "Prepared",
    "Reinitialize",
    "Request",
    "Response",
    "Rollback",
    "SetIndex",
    "StringIds",
    "TokenRequest",
    "UndoTrial",
    "Version",
]

Ids = Annotated[np.ndarray, "ids"]
"""Sample IDs: non-empty, 1-D, int64, unique (checked on every decode)."""
Matrix = Annotated[torch.Tensor, "matrix"]
"""A float32 ``[n, d]`` matrix: embeddings or their gradients."""
Chunk = Annotated[bytes, "chunk"]
"""One PSI chunk (``vfl.psi``): blinded group elements or tags, at most ``MAX_CHUNK_BYTES``."""
StringIds = Annotated[tuple[str, ...], "string_ids"]
"""Sample IDs as the parties' files write them: sorted, unique, non-empty, bounded length."""


class Message:
    """Base of requests and responses; ``op`` is the name every transport uses for it."""

    op: ClassVar[str]


# -- responses -------------------------------------------------------------------
class Response(Message):
    """What a party answers to one request."""


@dataclass(frozen=True)
class Done(Response):
    """The request was carried out and has nothing to return."""

    op: ClassVar[str] = "done"


@dataclass(frozen=True)
class Embeddings(Response):
    op: ClassVar[str] = "embeddings"
    embeddings: Matrix


@dataclass(frozen=True)
class Version(Response):
    op: ClassVar[str] = "version"
    version: int


@dataclass(frozen=True)
class Prepared(Response):
    """Phase one of a commit: the candidate version is on the party's disk, not current."""

    op: ClassVar[str] = "prepared"
    version: int
    digest: str


@dataclass(frozen=True)
class PartyInfoResponse(Response):
    """:class:`~vfl.party.passive.PartyInfo` on the wire."""

    op: ClassVar[str] = "info"
    party_id: str
    embed_dim: int
    n_samples: int
    version: int
    digest: str

    def to_info(self) -> PartyInfo:
        return PartyInfo(self.party_id, self.embed_dim, self.n_samples, self.version, self.digest)


# -- requests --------------------------------------------------------------------
class Request(Message):
    """One operation; ``deferrable`` requests answer :class:`Done` and may ride with the next."""

    response: ClassVar[type[Response]] = Done
    deferrable: ClassVar[bool] = False

    def apply(self, party: PassiveParty) -> Response:
        raise NotImplementedError


@dataclass(frozen=True)
class Info(Request):
    op: ClassVar[str] = "info"
    response: ClassVar[type[Response]] = PartyInfoResponse

    def apply(self, party: PassiveParty) -> Response:
        info = party.info()
        return PartyInfoResponse(
            info.party_id, info.embed_dim, info.n_samples, info.version, info.digest
        )


@dataclass(frozen=True)
class Embed(Request):
    """Embeddings of ``ids``; ``train`` keeps the graph for the next :class:`Backward`."""

    op: ClassVar[str] = "embed"
    response: ClassVar[type[Response]] = Embeddings
    ids: Ids
    train: bool

    def apply(self, party: PassiveParty) -> Response:
        return Embeddings(party.embed(self.ids, self.train))


@dataclass(frozen=True)
class Backward(Request):
    """d(loss)/d(embeddings) for the IDs of the last training embed: one optimizer step."""

    op: ClassVar[str] = "backward"
    deferrable: ClassVar[bool] = True
    ids: Ids
    grad: Matrix

    def apply(self, party: PassiveParty) -> Response:
        party.backward(self.ids, self.grad)
        return Done()


@dataclass(frozen=True)
class Configure(Request):
    op: ClassVar[str] = "configure"
    deferrable: ClassVar[bool] = True
    update: UpdateConfig

    def apply(self, party: PassiveParty) -> Response:
        party.configure(self.update)
        return Done()


@dataclass(frozen=True)
class Reinitialize(Request):
    op: ClassVar[str] = "reinitialize"
    deferrable: ClassVar[bool] = True
    seed: int

    def apply(self, party: PassiveParty) -> Response:
        party.reinitialize(self.seed)
        return Done()


@dataclass(frozen=True)
class TokenRequest(Request):
    """A trial or request verb that names its trial or request by ``token`` and answers
    :class:`Done`: the party method of the same name as ``op`` carries it out."""

    deferrable: ClassVar[bool] = True
    token: str

    def apply(self, party: PassiveParty) -> Response:
        getattr(party, self.op)(self.token)
        return Done()


# -- trials: scratch copies that never make a version ---------------------------
@dataclass(frozen=True)
class OpenTrial(TokenRequest):
    """Keep a copy of the party's state until the trial is kept or undone."""

    op: ClassVar[str] = "open_trial"


@dataclass(frozen=True)
class KeepTrial(TokenRequest):
    """Keep what changed since the trial opened (and drop its copy)."""

    op: ClassVar[str] = "keep_trial"


@dataclass(frozen=True)
class UndoTrial(TokenRequest):
    """Go back to the state the trial copied."""

    op: ClassVar[str] = "undo_trial"


# -- requests: versions by two-phase commit --------------------------------------
@dataclass(frozen=True)
class Begin(TokenRequest):
    """Start a request: the party remembers the state an :class:`Abort` goes back to.

    ``fence`` names the coordinator: a party with durable state serves one only.
    """

    op: ClassVar[str] = "begin"
    fence: str = ""

    def apply(self, party: PassiveParty) -> Response:
        party.begin(self.token, self.fence)
        return Done()


@dataclass(frozen=True)
class Prepare(Request):
    """Phase one: durably write the candidate next version."""

    op: ClassVar[str] = "prepare"
    response: ClassVar[type[Response]] = Prepared
    token: str

    def apply(self, party: PassiveParty) -> Response:
        return Prepared(*party.prepare(self.token))


@dataclass(frozen=True)
class Commit(Request):
    """Phase two: the prepared candidate becomes the new version."""

    op: ClassVar[str] = "commit"
    response: ClassVar[type[Response]] = Version
    token: str

    def apply(self, party: PassiveParty) -> Response:
        return Version(party.commit(self.token))  # on disk (via the store) when it returns


@dataclass(frozen=True)
class Abort(TokenRequest):
    """Drop the request's candidate and go back to where :class:`Begin` was."""

    op: ClassVar[str] = "abort"


@dataclass(frozen=True)
class Rollback(Request):
    """Make a committed version the party still holds current again (``vfl repair``)."""

    op: ClassVar[str] = "rollback"
    response: ClassVar[type[Response]] = Version
    version: int
    fence: str = ""

    def apply(self, party: PassiveParty) -> Response:
        return Version(party.rollback(self.version, self.fence))


# -- alignment (docs/psi.md): the active party is the PSI client of every party --------
@dataclass(frozen=True)
class AlignSetup(Response):
    op: ClassVar[str] = "align_setup"
    size: int
    chunks: int


@dataclass(frozen=True)
class AlignChunk(Response):
    op: ClassVar[str] = "align_chunk"
    data: Chunk


@dataclass(frozen=True)
class Aligned(Response):
    """The party's intersection size after the last REVEAL chunk; -1 before it."""

    op: ClassVar[str] = "aligned"
    shared: int


@dataclass(frozen=True)
class AlignBegin(Request):
    """Start a PSI session over the party's own IDs (``peer_size``: the active party's)."""

    op: ClassVar[str] = "align_begin"
    response: ClassVar[type[Response]] = AlignSetup
    session: str
    peer_size: int

    def apply(self, party: PassiveParty) -> Response:
        return AlignSetup(*party.align_begin(self.session, self.peer_size))


@dataclass(frozen=True)
class AlignSetupChunk(Request):
    op: ClassVar[str] = "align_setup_chunk"
    response: ClassVar[type[Response]] = AlignChunk
    session: str
    index: int

    def apply(self, party: PassiveParty) -> Response:
        return AlignChunk(party.align_session(self.session).setup_chunk(self.index))


@dataclass(frozen=True)
class AlignRequest(Request):
    """One REQUEST chunk; the answer is its RESPONSE chunk."""

    op: ClassVar[str] = "align_request"
    response: ClassVar[type[Response]] = AlignChunk
    session: str
    data: Chunk

    def apply(self, party: PassiveParty) -> Response:
        return AlignChunk(party.align_session(self.session).response(self.data))


@dataclass(frozen=True)
class AlignReveal(Request):
    op: ClassVar[str] = "align_reveal"
    response: ClassVar[type[Response]] = Aligned
    session: str
    data: Chunk
    last: bool

    def apply(self, party: PassiveParty) -> Response:
        shared = party.align_session(self.session).reveal(self.data, self.last)
        return Aligned(-1 if shared is None else shared)


@dataclass(frozen=True)
class SetIndex(Request):
    """The federation's samples: wire position ``k`` is ``(train + test + score)[k]``.
    IDs only; which IDs are ``score`` tells the party they have no label (docs/psi.md)."""

    op: ClassVar[str] = "set_index"
    session: str
    train: StringIds
    test: StringIds
    fence: str = ""
    score: StringIds = ()

    def apply(self, party: PassiveParty) -> Response:
        party.check_fence(self.fence)
        party.align_session(self.session)
        party.set_index(SampleIndex(self.train, self.test, self.score))
        return Done()


def _table(base: type[Any]) -> dict[str, type[Any]]:
    out: dict[str, type[Any]] = {}
    for cls in list(globals().values()):
        if (
            isinstance(cls, type)
            and issubclass(cls, base)
            and cls is not base
            and "op" in vars(cls)
        ):
            out[cls.op] = cls
    return out


REQUESTS: dict[str, type[Request]] = _table(Request)
"""Every request by its ``op`` name: what a party's dispatcher and the codecs accept."""
RESPONSES: dict[str, type[Response]] = _table(Response)
