"""The ClientApp: one passive party answering sealed messages from the ServerApp.

The party (its columns and bottom model) must live across messages: a
training step's ``backward`` needs the autograd graph of the preceding
``embed``. Flower 1.42 starts a fresh ``flwr-clientapp`` process per message
in its default isolation mode, which would lose it, so a passive party runs
its SuperNode with ``--isolation process`` next to a long-lived
``python -m vfl.flower.worker`` that holds the :class:`PassiveEndpoint` and
calls this ``app`` for every message (see :mod:`vfl.flower.runtime`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.clientapp import ClientApp

from vfl.errors import ConfigError, ProtocolError
from vfl.flower.crypto import SecureChannel, derive_channel, fresh_nonce
from vfl.flower.protocol import ACTION, HELLO, IDLE, execute, open_box, seal_box
from vfl.flower.wire import Item
from vfl.party.passive import PassiveParty

__all__ = ["Observer", "PassiveEndpoint", "app", "serve"]

Observer = Callable[[Message, list[Item] | None], None]
"""Sees every incoming message (and, once decrypted, its calls); privacy tests use it."""


@dataclass
class PassiveEndpoint:
    """A passive party plus its keys and live sessions (one per Flower run)."""

    party: PassiveParty
    private: X25519PrivateKey
    active_key: X25519PublicKey
    observer: Observer | None = None
    sessions: dict[int, SecureChannel] = field(default_factory=dict)


_ENDPOINT: PassiveEndpoint | None = None
MAX_IDLE_HOLD = 2.0

app = ClientApp()


def serve(endpoint: PassiveEndpoint | None) -> None:
    """Make ``endpoint`` the party this process's ``app`` answers for."""
    global _ENDPOINT
    _ENDPOINT = endpoint


def _endpoint() -> PassiveEndpoint:
    if _ENDPOINT is None:
        raise ConfigError(
            "no vfl passive party in this process: run the SuperNode with --isolation process "
            "and start `python -m vfl.flower.worker` next to it"
        )
    return _ENDPOINT


def _observe(endpoint: PassiveEndpoint, msg: Message, items: list[Item] | None) -> None:
    if endpoint.observer is not None:
        endpoint.observer(msg, items)


@app.query(HELLO)
def hello(msg: Message, context: Context) -> Message:
    """Start a session: answer the active party's nonce with ours and our party id."""
    endpoint = _endpoint()
    _observe(endpoint, msg, None)
    record = msg.content.config_records.get(HELLO)
    active_nonce = record.get("nonce") if record is not None else None
    if not isinstance(active_nonce, bytes):
        raise ProtocolError("handshake without a nonce")
    nonce = fresh_nonce()
    endpoint.sessions[context.run_id] = derive_channel(
        private=endpoint.private,
        peer=endpoint.active_key,
        active=False,
        active_nonce=active_nonce,
        passive_nonce=nonce,
        party_id=endpoint.party.party_id,
        run_id=context.run_id,
    )
    reply = ConfigRecord({"party": endpoint.party.party_id, "nonce": nonce})
    return Message(RecordDict({HELLO: reply}), reply_to=msg)


@app.query(IDLE)
def idle(msg: Message, context: Context) -> Message:
    """Answer a keep-awake message with nothing (see :class:`vfl.flower.client.GridLink`)."""
    _observe(_endpoint(), msg, None)
    record = msg.content.config_records.get(IDLE)
    hold = record.get("hold") if record is not None else None
    if isinstance(hold, float):
        time.sleep(min(max(hold, 0.0), MAX_IDLE_HOLD))
    return Message(RecordDict(), reply_to=msg)


def step(msg: Message, context: Context) -> Message:
    """Open the box, run its calls on the party, seal the results."""
    endpoint = _endpoint()
    channel = endpoint.sessions.get(context.run_id)
    if channel is None:
        _observe(endpoint, msg, None)
        raise ProtocolError(f"no session for run {context.run_id}; the ServerApp must say hello")
    items = open_box(channel, msg.content)
    _observe(endpoint, msg, items)
    return Message(seal_box(channel, execute(endpoint.party, items)), reply_to=msg)


app.query(ACTION)(step)
app.train(ACTION)(step)
