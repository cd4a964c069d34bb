"""The active side's view of one passive party behind a Flower SuperNode.

:class:`FlowerLink` moves the party protocol's batches as sealed messages to
one node through a Flower ``Grid``, so the coordinator and every unlearning
method run unchanged on Flower.

Why calls are batched: each Flower round trip costs seconds (the SuperNode
polls the SuperLink every 3 s when idle), so requests that return nothing
(``deferrable`` in :mod:`vfl.protocol.messages`: backward, configure,
reinitialize, the trial verbs, begin, abort) are queued and travel, in order,
with the next request that needs an answer (embed, info, prepare, commit,
rollback).
A training step therefore costs one round trip per party instead of two. The
catch: an error in a queued request surfaces at the next answered one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from flwr.app import ConfigRecord, Message, RecordDict
from flwr.serverapp import Grid

from vfl.errors import ConfigError, ProtocolError, VFLError
from vfl.flower.crypto import SecureChannel, derive_channel, fresh_nonce
from vfl.flower.protocol import ACTION, ERROR, HELLO, from_item, open_box, seal_box, to_item
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


class GridLink:
    """Request/reply with single nodes over a Flower ``Grid``, usable from several threads.

    ``Grid.send_and_receive`` sleeps 3 s between polls; this pushes one message
    and polls for its reply every ``poll`` seconds instead. While waiting it
    calls ``check`` about once a second (the local launcher passes a check that
    raises when one of its processes died) and gives up at once after
    :meth:`abort`, so a crash or Ctrl-C never waits out ``timeout``.
    """

    def __init__(
        self,
        grid: Grid,
        poll: float = 0.02,
        timeout: float = 600.0,
        check: Callable[[], None] | None = None,
    ) -> None:
        self.grid = grid
        self.poll = poll
        self.timeout = timeout
        self.check = check
        self.aborted = threading.Event()
        self._lock = threading.Lock()

    def abort(self) -> None:
        """Make every waiting and future request fail immediately."""
        self.aborted.set()

    def request(self, node_id: int, message_type: str, content: RecordDict) -> RecordDict:
        message = Message(content, dst_node_id=node_id, message_type=message_type)
        self._raise_if_aborted()
        with self._lock:
            msg_ids = list(self.grid.push_messages([message]))
        start = last_check = time.monotonic()
        while True:
            with self._lock:
                replies = list(self.grid.pull_messages(msg_ids))
            if replies:
                break
            now = time.monotonic()
            if now - start > self.timeout:
                raise FlowerTransportError(
                    f"node {node_id} did not answer {message_type} within {self.timeout:.0f} s; "
                    "is its SuperNode and vfl worker running?"
                )
            if self.check is not None and now - last_check > 1.0:
                self.check()
                last_check = now
            self._raise_if_aborted()
            time.sleep(self.poll)
        reply = replies[0]
        if reply.has_error():
            raise FlowerTransportError(
                f"node {node_id} failed {message_type}: {reply.error.reason}"
            )
        return reply.content

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
