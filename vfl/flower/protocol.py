"""What travels between the ServerApp and a ClientApp, and how a party executes it.

Two message kinds exist. ``query.hello`` carries a fresh session nonce (and,
in the reply, the party id) in the clear -- nothing else. ``query.vfl`` /
``train.vfl`` carry one sealed box: ``RecordDict({"box": ConfigRecord({"seq",
"ct"})})`` whose plaintext is a list of :class:`~vfl.flower.wire.Item` calls.
The vocabulary below is the whole passive-party API of
:class:`~vfl.party.client.PassivePartyClient`: sample IDs, embeddings,
embedding gradients, optimizer settings, seeds and snapshot tokens. There is
no field that could hold a label, a class or a loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import torch
from flwr.app import ConfigRecord, RecordDict

from vfl.errors import ProtocolError, VFLError
from vfl.flower.crypto import SecureChannel
from vfl.flower.wire import Item, decode_items, encode_items
from vfl.party.optim import UpdateConfig
from vfl.party.passive import PassiveParty

__all__ = [
    "BOX",
    "HELLO",
    "OPS",
    "TRAINING_OPS",
    "execute",
    "open_box",
    "seal_box",
]

HELLO, BOX = "hello", "box"
ACTION = "vfl"
TRAINING_OPS = frozenset({"backward"})
"""Batches holding one of these go out as ``train.vfl``, the rest as ``query.vfl``."""

Handler = Callable[[PassiveParty, Item], Item]


def _info(party: PassiveParty, _item: Item) -> Item:
    return Item("info", asdict(party.info()))


def _embed(party: PassiveParty, item: Item) -> Item:
    emb = party.embed(item.arrays["ids"], bool(item.args["train"]))
    return Item("embed", arrays={"embeddings": emb.numpy()})


def _backward(party: PassiveParty, item: Item) -> Item:
    party.backward(item.arrays["ids"], torch.from_numpy(item.arrays["grad"]))
    return Item("backward")


def _configure(party: PassiveParty, item: Item) -> Item:
    party.configure(UpdateConfig.model_validate(item.args["update"]))
    return Item("configure")


def _reinitialize(party: PassiveParty, item: Item) -> Item:
    party.reinitialize(int(item.args["seed"]))
    return Item("reinitialize")


def _token_op(method: str) -> Handler:
    def handler(party: PassiveParty, item: Item) -> Item:
        out = getattr(party, method)(str(item.args["token"]))
        return Item(method, {"version": int(out)} if out is not None else {})

    return handler


OPS: dict[str, Handler] = {
    "info": _info,
    "embed": _embed,
    "backward": _backward,
    "configure": _configure,
    "reinitialize": _reinitialize,
    "snapshot": _token_op("snapshot"),
    "restore": _token_op("restore"),
    "commit": _token_op("commit"),
}


def execute(party: PassiveParty, items: list[Item]) -> list[Item]:
    """Run ``items`` in order; the first failure ends the batch with an ``error`` item."""
    results = []
    for item in items:
        handler = OPS.get(item.op)
        try:
            if handler is None:
                raise ProtocolError(f"unknown operation {item.op!r}")
            results.append(handler(party, item))
        except (VFLError, KeyError, ValueError, TypeError) as exc:
            results.append(
                Item("error", {"op": item.op, "kind": type(exc).__name__, "message": str(exc)})
            )
            break
    return results


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
