"""The active side's view of one passive party behind a Flower SuperNode.

:class:`FlowerLink` moves the party protocol's batches as sealed messages to
one node through a Flower ``Grid``, so the coordinator and every unlearning
method run unchanged on Flower.

Why calls are batched: each Flower round trip costs about a second even with
:class:`GridLink` keeping the SuperNodes awake, so requests that return nothing
(``deferrable`` in :mod:`vfl.protocol.messages`: backward, configure,
reinitialize, the trial verbs, begin, abort) are queued and travel, in order,
with the next request that needs an answer (embed, info, prepare, commit,
rollback).
A training step therefore costs one round trip per party instead of two. The
catch: an error in a queued request surfaces at the next answered one.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from flwr.app import ConfigRecord, Message, RecordDict
from flwr.serverapp import Grid

from vfl.errors import ConfigError, ProtocolError, VFLError
from vfl.flower.crypto import SecureChannel, derive_channel, fresh_nonce
from vfl.flower.protocol import ACTION, ERROR, HELLO, IDLE, from_item, open_box, seal_box, to_item
from vfl.party.passive import PartyInfo
from vfl.protocol.client import PassivePartyClient
from vfl.protocol.errors import error_from_code
from vfl.protocol.messages import RESPONSES, Backward, Done, Request, Response

__all__ = [
    "FlowerLink",
    "FlowerPassiveClient",
    "FlowerTransportError",
    "GridLink",
    "connect_party",
]


class FlowerTransportError(VFLError):
    """A Flower node did not answer in time, or answered with an error."""


AHEAD = 2
"""Idle messages kept outstanding for a node the active party is not asking anything:
one being answered, one queued behind it for the SuperNode's next pull."""


@dataclass
class _Node:
    """What one node has in flight."""

    idle: set[str] = field(default_factory=set)
    """Keep-awake messages pushed whose replies have not come back."""
    busy: int = 0
    """Requests pushed and not yet answered."""
    last_reply: float | None = None
    """When its last request was answered (monotonic)."""


class GridLink:
    """Request/reply with single nodes over a Flower ``Grid``, usable from several threads.

    ``Grid.send_and_receive`` sleeps 3 s between polls; here one poller
    thread pulls every reply every ``poll`` seconds and hands each to the
    thread waiting for it. While waiting, a caller runs ``check`` about once a
    second (the local launcher passes a check that raises when one of its
    processes died) and gives up at once after :meth:`abort`, so a crash or
    Ctrl-C never waits out ``timeout``.

    **Keeping the nodes awake.** A SuperNode (flwr 1.42,
    ``flwr/supernode/start_client_internal.py``) loops: pull one message from
    the SuperLink (oldest first); if there is none, sleep 3 s; otherwise hand
    it to the ClientApp, look for the reply every 0.5 s, push it, and pull
    again at once. In split learning the next message to a party exists only
    after the active party has read the previous reply (of every party), so
    that immediate pull found the queue empty and nearly every message waited
    out the 3 s sleep. Worse, once one party slept, the other party's next
    message waited for it and it fell asleep too, half a cycle later: the
    parties then took turns sleeping. So:

    * every request is pushed with one ``query.idle`` message queued behind
      it; after pushing the reply the SuperNode pulls that idle message
      instead of nothing, and while its ClientApp answers it (about 0.5 s,
      Flower's reply polling) the active party queues the next request;
    * when a node has answered and no new request follows within ``lead``
      seconds (the active party is waiting for a slower party, or computing),
      the poller keeps two idle messages outstanding for that node, for up to
      ``warm_for`` seconds, so it never finds its queue empty and sleeps.

    Idle messages carry a counter (which keeps their Flower object ids
    distinct) and ``hold``, how long the ClientApp waits before answering:
    the SuperNode's first reply check, made at once, then misses it and the
    idle message lasts one 0.5 s reply poll (answered at once, it sometimes
    lasted 0.1 s, too short for the active party to queue the next request).
    Their replies are empty and dropped. The price: a sequential round trip
    costs two SuperNode cycles, about 1.2 s, instead of one plus a 3 s
    sleep; and a top-up queued just before the next request delays it by
    one cycle, which ``lead`` trades against the sleep (the top-up must be
    queued before the idle message in flight is answered, ~0.5 s after the
    reply). ``keep_warm=False`` is the plain request/reply.
    """

    def __init__(
        self,
        grid: Grid,
        poll: float = 0.02,
        timeout: float = 600.0,
        check: Callable[[], None] | None = None,
        *,
        keep_warm: bool = True,
        idle_hold: float = 0.1,
        lead: float = 0.3,
        warm_for: float = 5.0,
    ) -> None:
        self.grid = grid
        self.poll = poll
        self.timeout = timeout
        self.check = check
        self.keep_warm = keep_warm
        self.idle_hold = idle_hold
        self.lead = lead
        self.warm_for = warm_for
        self.aborted = threading.Event()
        self.messages = 0
        """Messages pushed to any node, idle ones included."""
        self.idle_messages = 0
        """Of those, keep-awake messages."""
        self._grid_lock = threading.Lock()  # Grid objects are not documented as thread-safe
        self._state = threading.Condition()
        self._nodes: dict[int, _Node] = {}
        self._waiting: dict[str, int] = {}  # request message id -> node id
        self._replies: dict[str, Message] = {}
        self._counter = itertools.count(1)
        self._closed = False
        self._poller: threading.Thread | None = None
        self._poll_error: BaseException | None = None

    def abort(self) -> None:
        """Make every waiting and future request fail immediately."""
        self.aborted.set()
        with self._state:
            self._state.notify_all()

    def close(self) -> None:
        """Stop the poller thread (outstanding idle messages are left to expire)."""
        with self._state:
            self._closed = True
            self._state.notify_all()
        if self._poller is not None:
            self._poller.join()

    def request(self, node_id: int, message_type: str, content: RecordDict) -> RecordDict:
        self._raise_if_aborted()
        message = Message(content, dst_node_id=node_id, message_type=message_type)
        with self._state:
            node = self._nodes.setdefault(node_id, _Node())
            node.busy += 1
            self._start_poller()
        try:
            msg_id = self._push(node_id, [message], idle=1 if self.keep_warm else 0)
            reply = self._wait(node_id, message_type, msg_id)
        finally:
            with self._state:
                node.busy -= 1
                node.last_reply = time.monotonic()
        if reply.has_error():
            raise FlowerTransportError(
                f"node {node_id} failed {message_type}: {reply.error.reason}"
            )
        return reply.content

    def _push(self, node_id: int, messages: list[Message], idle: int) -> str:
        """Push ``messages`` and ``idle`` keep-awake messages behind them; the first's id."""
        with self._state:
            node = self._nodes.setdefault(node_id, _Node())
            batch = [*messages, *(self._idle_message(node_id) for _ in range(idle))]
        with self._grid_lock:
            ids = list(self.grid.push_messages(batch))
        with self._state:
            node.idle.update(i for i in ids[len(messages) :] if i)
            if messages:
                self._waiting[ids[0]] = node_id
            self.messages += len(batch)
            self.idle_messages += idle
        return ids[0]

    def _idle_message(self, node_id: int) -> Message:
        record = ConfigRecord({"n": next(self._counter), "hold": self.idle_hold})
        return Message(
            RecordDict({IDLE: record}), dst_node_id=node_id, message_type=f"query.{IDLE}"
        )

    def _wait(self, node_id: int, message_type: str, msg_id: str) -> Message:
        start = last_check = time.monotonic()
        while True:
            with self._state:
                self._state.wait_for(
                    lambda: (
                        msg_id in self._replies
                        or self._poll_error is not None
                        or self.aborted.is_set()
                    ),
                    timeout=0.2,
                )
                if msg_id in self._replies:
                    return self._replies.pop(msg_id)
                failed = self._poll_error
            if failed is not None:
                if self.check is not None:
                    self.check()  # a dead SuperLink explains it better
                raise FlowerTransportError(f"polling the grid failed: {failed!r}") from failed
            self._raise_if_aborted()
            now = time.monotonic()
            if now - start > self.timeout:
                with self._state:
                    self._waiting.pop(msg_id, None)
                raise FlowerTransportError(
                    f"node {node_id} did not answer {message_type} within {self.timeout:.0f} s; "
                    "is its SuperNode and vfl worker running?"
                )
            if self.check is not None and now - last_check > 1.0:
                self.check()
                last_check = now

    def _start_poller(self) -> None:
        if self._poller is None:
            self._poller = threading.Thread(
                target=self._poll_loop, name="vfl-grid-poll", daemon=True
            )
            self._poller.start()

    def _poll_loop(self) -> None:
        try:
            while True:
                with self._state:
                    if self._closed or self.aborted.is_set():
                        return
                    ids = [*self._waiting, *(i for n in self._nodes.values() for i in n.idle)]
                if ids:
                    with self._grid_lock:
                        replies = list(self.grid.pull_messages(ids))
                    self._deliver(replies)
                if self.keep_warm:
                    for node_id, count in self._idle_wanted():
                        self._push(node_id, [], idle=count)
                time.sleep(self.poll)
        except BaseException as exc:  # surfaces in every waiting request
            with self._state:
                self._poll_error = exc
                self._state.notify_all()

    def _deliver(self, replies: list[Message]) -> None:
        with self._state:
            for reply in replies:
                to = reply.metadata.reply_to_message_id
                if self._waiting.pop(to, None) is not None:
                    self._replies[to] = reply
                else:
                    for node in self._nodes.values():
                        node.idle.discard(to)
            self._state.notify_all()

    def _idle_wanted(self) -> list[tuple[int, int]]:
        """Nodes between requests, waited on longer than ``lead``: idle messages to add."""
        now = time.monotonic()
        with self._state:
            return [
                (node_id, AHEAD - len(node.idle))
                for node_id, node in self._nodes.items()
                if not node.busy
                and node.last_reply is not None
                and self.lead < now - node.last_reply < self.warm_for
                and len(node.idle) < AHEAD
            ]

    def _raise_if_aborted(self) -> None:
        if self.aborted.is_set():
            raise FlowerTransportError("the federation was aborted")


class FlowerLink:
    """Moves protocol batches to one party, reached through ``link`` at Flower node ``node_id``.

    Deferrable requests (those that answer only :class:`~vfl.protocol.messages.Done`)
    are queued and travel, in order, with the next request that needs an answer.
    """

    def __init__(self, link: GridLink, node_id: int, party_id: str, channel: SecureChannel) -> None:
        self.party_id = party_id
        self.node_id = node_id
        self._link = link
        self._channel = channel
        self._pending: list[Request] = []
        self._lock = threading.Lock()
        self.round_trips = 0
        """Sealed messages sent to this party (benchmarks report it)."""

    def call(self, requests: Sequence[Request]) -> list[Response]:
        with self._lock:
            if all(r.deferrable for r in requests):
                self._pending += requests
                return [Done() for _ in requests]
            batch, self._pending = [*self._pending, *requests], []
            return self._send(batch)[len(batch) - len(requests) :]

    def flush(self) -> None:
        """Send queued requests now (``close`` does this too)."""
        with self._lock:
            batch, self._pending = self._pending, []
            if batch:
                self._send(batch)

    def close(self) -> None:
        """Send queued requests, unless the federation is being torn down after an error."""
        if not self._link.aborted.is_set():
            self.flush()

    def _send(self, batch: list[Request]) -> list[Response]:
        kind = "train" if any(isinstance(r, Backward) for r in batch) else "query"
        self.round_trips += 1
        box = seal_box(self._channel, [to_item(r) for r in batch])
        content = self._link.request(self.node_id, f"{kind}.{ACTION}", box)
        results = open_box(self._channel, content)
        if len(results) == 1 and results[0].op == ERROR:
            err = results[0].args
            raise error_from_code(
                str(err.get("code")), f"party {self.party_id}: {err.get('message')}"
            )
        return [from_item(item, RESPONSES) for item in results]  # type: ignore[misc]


class FlowerPassiveClient(PassivePartyClient):
    """A client for one passive party behind a Flower SuperNode (see :class:`FlowerLink`)."""

    def __init__(self, link: GridLink, node_id: int, party_id: str, channel: SecureChannel) -> None:
        self.flower = FlowerLink(link, node_id, party_id, channel)
        super().__init__(party_id, self.flower)
        self.node_id = node_id

    @property
    def round_trips(self) -> int:
        return self.flower.round_trips

    def flush(self) -> None:
        self.flower.flush()


def connect_party(
    link: GridLink,
    node_id: int,
    private: X25519PrivateKey,
    pinned: dict[str, X25519PublicKey],
    run_id: int,
) -> tuple[FlowerPassiveClient, PartyInfo]:
    """Handshake with ``node_id``: exchange nonces, derive the session, prove it works."""
    nonce = fresh_nonce()
    reply = link.request(
        node_id, f"query.{HELLO}", RecordDict({HELLO: ConfigRecord({"nonce": nonce})})
    )
    record = reply.config_records.get(HELLO)
    if record is None:
        raise ProtocolError(f"node {node_id} did not answer the handshake")
    party_id, peer_nonce = record.get("party"), record.get("nonce")
    if party_id not in pinned or not isinstance(peer_nonce, bytes):
        raise ConfigError(
            f"node {node_id} claims to be party {party_id!r}, which has no pinned public key; "
            f"known parties: {', '.join(sorted(pinned))}"
        )
    channel = derive_channel(
        private=private,
        peer=pinned[str(party_id)],
        active=True,
        active_nonce=nonce,
        passive_nonce=peer_nonce,
        party_id=str(party_id),
        run_id=run_id,
    )
    client = FlowerPassiveClient(link, node_id, str(party_id), channel)
    return client, client.info()  # fails now, not mid-training, if a key is wrong
