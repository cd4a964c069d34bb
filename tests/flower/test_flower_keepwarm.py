"""GridLink's keep-awake messages, the idle ClientApp handler and the quick object pulls.

``ScriptedGrid`` stands in for the Flower ``Grid`` (the real one is exercised by
test_flower_integration.py): it records what is pushed, in order, and answers
only what a test tells it to, so every assertion here is about order and
counts, never about time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.proto.message_pb2 import PullObjectRequest, PullObjectResponse
from flwr.supercore.runtime import RuntimeHttpClient
from flwr.supercore.task_identity import TaskIdentity

from vfl.federation import FederationSpec, build_passive_party
from vfl.flower import client_app
from vfl.flower.client import FlowerTransportError, GridLink, _Node
from vfl.flower.crypto import generate_keypair, load_private_key, load_public_key
from vfl.flower.protocol import IDLE
from vfl.flower.runtime import QuickPullClient
from vfl.flower.worker import message_recorder

NODE, OTHER = 7, 8
IDLE_TYPE = f"query.{IDLE}"
WAIT = 30.0  # a bound on waiting for the poller thread, not a measured time


class ScriptedGrid:
    """Records pushed messages; answers requests (not idle messages) when told to."""

    def __init__(self, answer_requests: bool = True) -> None:
        self.answer_requests = answer_requests
        self.pushed: list[Message] = []
        self.replies: dict[str, Message] = {}
        self.answered: set[str] = set()
        self.lock = threading.Lock()

    def push_messages(self, messages: Iterable[Message]) -> list[str]:
        ids = []
        with self.lock:
            for msg in messages:
                msg_id = f"m{len(self.pushed)}"
                msg.metadata.__dict__["_message_id"] = msg_id  # as HttpGrid does
                self.pushed.append(msg)
                ids.append(msg_id)
                if self.answer_requests and msg.metadata.message_type != IDLE_TYPE:
                    self.replies[msg_id] = Message(RecordDict({"ok": ConfigRecord()}), reply_to=msg)
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> list[Message]:
        with self.lock:
            return [self.replies.pop(i) for i in list(message_ids) if i in self.replies]

    def answer_idle(self, node: int) -> None:
        """Answer the oldest unanswered idle message to ``node``."""
        with self.lock:
            for msg in self.pushed:
                mid = msg.metadata.message_id
                if self._is_idle_to(msg, node) and mid not in self.answered:
                    self.answered.add(mid)
                    self.replies[mid] = Message(RecordDict(), reply_to=msg)
                    return
        raise AssertionError(f"no unanswered idle message to node {node}")

    @staticmethod
    def _is_idle_to(msg: Message, node: int) -> bool:
        return msg.metadata.message_type == IDLE_TYPE and msg.metadata.dst_node_id == node

    def idle_to(self, node: int) -> int:
        with self.lock:
            return sum(self._is_idle_to(m, node) for m in self.pushed)

    def types(self) -> list[tuple[int, str]]:
        with self.lock:
            return [(m.metadata.dst_node_id, m.metadata.message_type) for m in self.pushed]


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "the poller thread never got there"
        time.sleep(0.01)


@pytest.fixture(autouse=True)
def task_identity() -> None:
    """Flower stamps new messages with the run and node of the running task."""
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 1, 0, 1


@pytest.fixture
def grid() -> ScriptedGrid:
    return ScriptedGrid()


@pytest.fixture
def make_link(grid: ScriptedGrid) -> Iterator[Callable[..., GridLink]]:
    links: list[GridLink] = []

    def make(**kwargs: object) -> GridLink:
        links.append(GridLink(grid, poll=0.005, **kwargs))  # type: ignore[arg-type]
        return links[-1]

    yield make
    for link in links:
        link.close()


def test_every_request_has_one_idle_message_queued_behind_it(
    grid: ScriptedGrid, make_link: Callable[..., GridLink]
) -> None:
    link = make_link(warm_for=0.0)  # no top-ups: only what travels with each request
    assert link.request(NODE, "query.vfl", RecordDict()).config_records["ok"] == ConfigRecord()
    assert link.request(OTHER, "train.vfl", RecordDict()).config_records["ok"] == ConfigRecord()
    assert grid.types() == [
        (NODE, "query.vfl"),
        (NODE, IDLE_TYPE),
        (OTHER, "train.vfl"),
        (OTHER, IDLE_TYPE),
    ]
    assert (link.messages, link.idle_messages) == (4, 2)
    idle = grid.pushed[1].content.config_records[IDLE]
    assert set(idle) == {"n", "hold"}  # a counter and a hold time: nothing else travels


def test_idle_messages_are_distinct_flower_objects(
    grid: ScriptedGrid, make_link: Callable[..., GridLink]
) -> None:
    link = make_link(warm_for=0.0)
    for _ in range(3):
        link.request(NODE, "query.vfl", RecordDict())
    idle = [m for m in grid.pushed if m.metadata.message_type == IDLE_TYPE]
    assert len({m.object_id for m in idle}) == 3  # equal objects would share one Flower id


def test_a_waiting_node_is_kept_two_idle_messages_ahead(
    grid: ScriptedGrid, make_link: Callable[..., GridLink]
) -> None:
    link = make_link(lead=0.0, warm_for=3600.0)
    link.request(NODE, "query.vfl", RecordDict())
    wait_until(lambda: grid.idle_to(NODE) == 2)  # the one behind the request, plus one
    grid.answer_idle(NODE)  # the SuperNode took one: the poller queues another
    wait_until(lambda: grid.idle_to(NODE) == 3)
    link.close()  # the poller is gone: what it pushed is final
    assert grid.idle_to(NODE) == 3
    assert grid.idle_to(OTHER) == 0  # a node never asked is left alone


def test_without_keep_warm_only_requests_travel(
    grid: ScriptedGrid, make_link: Callable[..., GridLink]
) -> None:
    link = make_link(keep_warm=False, lead=0.0)
    link.request(NODE, "query.vfl", RecordDict())
    link.request(NODE, "query.vfl", RecordDict())
    link.close()
    assert grid.types() == [(NODE, "query.vfl"), (NODE, "query.vfl")]


def test_who_gets_idle_messages_and_how_many() -> None:
    link = GridLink(ScriptedGrid(), lead=0.25, warm_for=5.0)  # type: ignore[arg-type]
    now = time.monotonic()
    with link._state:
        for n in range(7):
            link._nodes[n] = _Node()
        answered_long_ago, answered_now, busy, never = (link._nodes[n] for n in range(4))
        answered_long_ago.last_reply = now - 60  # past warm_for: let it sleep
        answered_now.last_reply = now  # the next request may follow at once
        busy.last_reply, busy.busy = now - 1, 1  # its request carries its own idle message
        never.last_reply = None
        link._nodes[4].last_reply = now - 1
        link._nodes[5].last_reply = now - 1
        link._nodes[5].idle = {"a"}
        link._nodes[6].last_reply = now - 1
        link._nodes[6].idle = {"a", "b"}
    assert link._idle_wanted() == [(4, 2), (5, 1)]


def test_an_abort_ends_a_request_that_waits(
    grid: ScriptedGrid, make_link: Callable[..., GridLink]
) -> None:
    grid.answer_requests = False  # the node never answers
    link = make_link(warm_for=0.0)
    raised: list[BaseException] = []

    def ask() -> None:
        try:
            link.request(NODE, "query.vfl", RecordDict())
        except FlowerTransportError as exc:
            raised.append(exc)

    waiting = threading.Thread(target=ask)
    waiting.start()
    wait_until(lambda: len(grid.pushed) == 2)
    link.abort()
    waiting.join(WAIT)
    assert not waiting.is_alive()
    assert [str(e) for e in raised] == ["the federation was aborted"]


class BrokenGrid(ScriptedGrid):
    def pull_messages(self, message_ids: Iterable[str]) -> list[Message]:
        raise ConnectionError("SuperLink gone")


@pytest.mark.parametrize("with_check", [False, True])
def test_a_failing_poll_fails_the_waiting_request(with_check: bool) -> None:
    def check() -> None:
        raise FlowerTransportError("superlink exited with code 1")

    link = GridLink(BrokenGrid(answer_requests=False), check=check if with_check else None)
    try:
        expected = "superlink exited" if with_check else "polling the grid failed: ConnectionError"
        with pytest.raises(FlowerTransportError, match=expected):
            link.request(NODE, "query.vfl", RecordDict())
    finally:
        link.close()


def test_the_clientapp_answers_idle_messages_with_nothing(tmp_path: Path) -> None:
    spec = FederationSpec(dataset="digits", parties=2)
    for name in ("active", "passive-0"):
        generate_keypair(tmp_path, name)
    record = tmp_path / "received.jsonl"
    client_app.serve(
        client_app.PassiveEndpoint(
            party=build_passive_party(spec, "passive-0"),
            private=load_private_key(tmp_path / "passive-0.key"),
            active_key=load_public_key(tmp_path / "active.pub"),
            observer=message_recorder(record),
        )
    )
    try:
        context = Context(run_id=1, node_id=NODE, node_config={}, state=RecordDict(), run_config={})
        for hold in (0.0, -5.0):  # a negative hold is no hold
            content = RecordDict({IDLE: ConfigRecord({"n": 1, "hold": hold})})
            msg = Message(content, dst_node_id=NODE, message_type=IDLE_TYPE)
            reply = client_app.app(msg, context)
            assert not reply.has_error() and len(reply.content) == 0
        assert record.read_text().count(IDLE_TYPE) == 2  # audits see idle messages too
    finally:
        client_app.serve(None)


def test_quick_pulls_wait_for_an_object_still_being_uploaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = [
        PullObjectResponse(object_found=True, object_available=False),
        PullObjectResponse(object_found=True, object_available=False),
        PullObjectResponse(object_found=True, object_available=True, object_content=b"x"),
    ]
    asked: list[PullObjectRequest] = []

    def pull(self: RuntimeHttpClient, request: PullObjectRequest) -> PullObjectResponse:
        asked.append(request)
        return answers[len(asked) - 1]

    monkeypatch.setattr(RuntimeHttpClient, "PullObject", pull)
    client = QuickPullClient.__new__(QuickPullClient)  # no connection needed
    assert client.PullObject(PullObjectRequest(object_id="o")).object_content == b"x"
    assert len(asked) == 3

    missing = PullObjectResponse(object_found=False)
    monkeypatch.setattr(RuntimeHttpClient, "PullObject", lambda self, request: missing)
    assert client.PullObject(PullObjectRequest(object_id="o")) is missing  # not found: no wait
