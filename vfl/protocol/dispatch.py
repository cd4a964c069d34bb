"""The one server side of the party protocol: requests in, responses out.

Every transport ends here: the gRPC servicer, the Flower ClientApp and the
in-process link all hand decoded requests to :func:`dispatch` and encode what
it returns. A refusal raises the party's own :class:`~vfl.errors.VFLError`;
the transport reports it with :func:`vfl.protocol.errors.code_of`.
"""

from __future__ import annotations

from collections.abc import Sequence

from vfl.party.passive import PassiveParty
from vfl.protocol.messages import Backward, Done, Embed, Embeddings, Request, Response

__all__ = ["dispatch"]


def dispatch(party: PassiveParty, requests: Sequence[Request]) -> list[Response]:
    """Carry out ``requests`` in order; the first refusal raises and ends the batch.

    Requests before the refused one stay applied, as if each had been its own
    call. One pair is atomic: a :class:`Backward` directly followed by an
    :class:`Embed` (a training step's gradient riding with the next embed) is
    checked whole before the optimizer steps, so a bad next embed leaves the
    model untouched and the coordinator can resend the gradient alone.
    """
    out: list[Response] = []
    i = 0
    while i < len(requests):
        request, following = requests[i], requests[i + 1 : i + 2]
        if isinstance(request, Backward) and following and isinstance(following[0], Embed):
            embed = following[0]
            emb = party.backward_and_embed(request.ids, request.grad, embed.ids, embed.train)
            out += [Done(), Embeddings(emb)]
            i += 2
        else:
            out.append(request.apply(party))
            i += 1
    return out
