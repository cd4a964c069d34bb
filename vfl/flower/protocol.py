r"""What travels between the ServerApp and a ClientApp, and how a party executes it.

Three message kinds exist. ``query.hello`` carries a fresh session nonce (and,
in the reply, the party id) in the clear -- nothing else. ``query.idle`` carries
only a counter and is answered with nothing: it keeps the SuperNode from
sleeping between requests (see :class:`~vfl.flower.client.GridLink`). ``query.vfl`` /
``train.vfl`` carry one sealed box: ``RecordDict({"box": ConfigRecord({"seq",
"ct"})})`` whose plaintext is a list of :class:`~vfl.flower.wire.Item`\ s: the requests of
:mod:`vfl.protocol.messages` (and, in the reply, their responses), one item
each, by the same field names as every transport. That vocabulary is the whole
passive-party API: sample IDs, embeddings, embedding gradients, optimizer
settings, seeds, trial and request tokens and version numbers. There is no
field that could hold a label, a class or a loss.
"""

from __future__ import annotations

import logging

from flwr.app import ConfigRecord, RecordDict

from vfl.errors import ProtocolError, VFLError, WireFormatError
from vfl.flower.crypto import SecureChannel
from vfl.flower.wire import Item, decode_items, encode_items
from vfl.party.passive import PassiveParty
from vfl.protocol.dispatch import dispatch
from vfl.protocol.errors import INTERNAL, code_of
from vfl.protocol.fields import from_parts, to_parts
from vfl.protocol.messages import REQUESTS, Message

__all__ = [
    "BOX",
    "ERROR",
    "HELLO",
    "IDLE",
    "execute",
    "from_item",
    "open_box",
    "seal_box",
    "to_item",
]

HELLO, BOX, IDLE = "hello", "box", "idle"
ACTION = "vfl"
ERROR = "error"

log = logging.getLogger(__name__)


def to_item(msg: Message) -> Item:
    """A protocol message as a wire item: its ``op``, scalars and arrays."""
    scalars, arrays = to_parts(msg)
    return Item(msg.op, scalars, arrays)


def from_item(item: Item, table: dict[str, type[Message]]) -> Message:
    """The message ``item`` holds, checked as every transport checks it."""
    cls = table.get(item.op)
    if cls is None:
        raise WireFormatError(f"unknown operation {item.op!r}")
    return from_parts(cls, item.args, item.arrays)


def execute(party: PassiveParty, items: list[Item]) -> list[Item]:
    """Run a batch with :func:`~vfl.protocol.dispatch.dispatch`; a refusal is one ``error`` item.

    The error item carries the same code every transport uses
    (:mod:`vfl.protocol.errors`), so the active side raises the same exception.
    """
    try:
        requests = [from_item(item, REQUESTS) for item in items]
        return [to_item(r) for r in dispatch(party, requests)]  # type: ignore[arg-type]
    except VFLError as exc:
        return [Item(ERROR, {"code": code_of(exc), "message": str(exc)})]
    except Exception:
        log.exception("unexpected error running %s", [i.op for i in items])
        return [Item(ERROR, {"code": INTERNAL, "message": "internal error"})]


def seal_box(channel: SecureChannel, items: list[Item], kind: str = ACTION) -> RecordDict:
    seq, ct = channel.seal(encode_items(items), kind)
    return RecordDict({BOX: ConfigRecord({"seq": seq, "ct": ct})})


def open_box(channel: SecureChannel, content: RecordDict, kind: str = ACTION) -> list[Item]:
    if set(content.keys()) != {BOX}:
        raise ProtocolError(f"expected one {BOX!r} record, got {sorted(content.keys())}")
    record = content.config_records[BOX]
    seq, ct = record.get("seq"), record.get("ct")
    if not isinstance(seq, int) or not isinstance(ct, bytes):
        raise ProtocolError("sealed box needs an integer 'seq' and bytes 'ct'")
    return decode_items(channel.open(seq, ct, kind))
