"""Executing Flower tasks inside long-lived vfl processes.

This is the only module that uses Flower internals (``flwr.supercore``,
``flwr.superlink``, ``flwr.supernode``) rather than the public ``flwr.app`` /
``flwr.serverapp`` / ``flwr.clientapp`` APIs; it mirrors what
``flower-superexec``, ``flwr-serverapp`` and ``flwr-clientapp`` do in Flower
1.42 with ``--isolation process``, and is pinned to that protocol.

Why: Flower's stock executors start a new process per ClientApp message and
per ServerApp run. A passive party must keep its model and autograd graph
between messages, and ``vfl simulate`` wants the ServerApp's coordinator in
its own process. So:

* :func:`run_worker` claims ClientApp tasks from one SuperNode's Runtime API
  and runs the :mod:`vfl.flower.client_app` ``app`` in this process, message
  after message, with the party in memory.
* :func:`hosted_serverapp` claims the ServerApp task of a run submitted with
  ``flwr run`` from the SuperLink's Runtime API and yields its ``Grid`` and
  ``Context`` -- exactly what a ``ServerApp`` main function receives.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import httpx
from flwr.app import Context, Error, Message
from flwr.clientapp import ClientApp
from flwr.common.constant import ErrorCode
from flwr.common.serde import context_from_proto, context_to_proto, run_from_proto
from flwr.proto.message_pb2 import (  # type: ignore[attr-defined]
    PullObjectRequest,
    PullObjectResponse,
)
from flwr.proto.runtime_pb2 import (  # type: ignore[attr-defined]
    AcquireTaskRequest,
    PullTaskInputRequest,
    PushTaskOutputRequest,
)
from flwr.serverapp import Grid
from flwr.supercore.constant import TaskType
from flwr.supercore.heartbeat import HeartbeatSender, make_task_heartbeat_fn_http
from flwr.supercore.interceptors import RuntimeVersionHttpInterceptor
from flwr.supercore.interceptors.http.runtime_token import RuntimeTokenHttpInterceptor
from flwr.supercore.runtime import RuntimeHttpClient
from flwr.supercore.task_identity import TaskIdentity
from flwr.superlink.grid.http_grid import HttpGrid
from flwr.supernode.runtime.run_clientapp import pull_task_input, push_message, push_task_output

from vfl.flower.client import FlowerTransportError

__all__ = ["QuickPullClient", "QuickPullGrid", "acquire_task", "hosted_serverapp", "run_worker"]

COMPLETED, FAILED = "completed", "failed"


class QuickPullClient(RuntimeHttpClient):
    """A Runtime API client that waits a moment for an object still being uploaded.

    Flower announces a message before its objects have arrived (the sender
    pushes the message, then its objects; a SuperNode creates the task, then
    fetches the objects). A reader that is quick off the mark -- the worker
    claims tasks within milliseconds, the ServerApp polls replies every 20 ms
    -- finds the object "not available" and Flower's ``pull_objects`` then
    backs off 1 s, doubling: about a second lost on many messages. This
    client re-asks every ``POLL`` seconds for up to ``WAIT`` seconds before
    reporting the object unavailable, so the backoff almost never starts.
    """

    POLL, WAIT = 0.005, 2.0

    def PullObject(self, request: PullObjectRequest) -> PullObjectResponse:
        deadline = time.monotonic() + self.WAIT
        while True:
            res = super().PullObject(request)
            if res.object_available or not res.object_found or time.monotonic() > deadline:
                return res
            time.sleep(self.POLL)


class QuickPullGrid(HttpGrid):
    """Flower's ``HttpGrid`` reading replies through a :class:`QuickPullClient`."""

    def _connect(self) -> None:
        super()._connect()
        # HttpGrid builds a plain RuntimeHttpClient; QuickPullClient adds no state,
        # only the PullObject retry, so the instance can take that class.
        self._client.__class__ = QuickPullClient  # type: ignore[union-attr]


def _runtime_client(address: str, *, token: str | None, component: str) -> RuntimeHttpClient:
    interceptors: list = [RuntimeVersionHttpInterceptor(component_name=component)]
    if token is not None:
        interceptors.append(RuntimeTokenHttpInterceptor(token))
    return QuickPullClient.from_server_address(
        server_address=address, insecure=True, root_certificates=None, interceptors=interceptors
    )


def acquire_task(
    client: RuntimeHttpClient,
    task_type: TaskType,
    stop: threading.Event,
    poll: float = 0.01,
    timeout: float | None = None,
) -> str | None:
    """Claim the oldest pending task of ``task_type``; its token, or None when stopped."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not stop.is_set():
        try:
            res = client.AcquireTask(AcquireTaskRequest(supported_task_types=[task_type]))
            if res.token:
                return str(res.token)
        except httpx.TransportError:
            pass  # the Runtime API is not up yet (or restarting): keep polling
        if deadline is not None and time.monotonic() > deadline:
            raise FlowerTransportError(f"no {task_type} task appeared within {timeout:.0f} s")
        stop.wait(poll)
    return None


def run_worker(address: str, app: ClientApp, stop: threading.Event) -> None:
    """Answer ClientApp tasks of the SuperNode at ``address`` in this process until ``stop``."""
    control = _runtime_client(address, token=None, component="SuperExec")
    try:
        while (token := acquire_task(control, TaskType.CLIENT_APP, stop)) is not None:
            _run_client_task(address, app, token)
    finally:
        control.close()


def _run_client_task(address: str, app: ClientApp, token: str) -> None:
    client = _runtime_client(address, token=token, component="flwr-clientapp")
    context: Context | None = None
    status, details = FAILED, "vfl worker failed"
    try:
        message, context, _run, _fab = pull_task_input(client)
        try:
            reply = app(message=message, context=context)
            status, details = COMPLETED, ""
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            reply = Message(Error(ErrorCode.CLIENT_APP_RAISED_EXCEPTION, reason), reply_to=message)
            details = str(exc)
        push_message(client, reply, context)
    finally:
        push_task_output(client, context, status, details)
        client.close()


@contextmanager
def hosted_serverapp(address: str, timeout: float = 120.0) -> Iterator[tuple[Grid, Context]]:
    """Claim the next ServerApp task at the SuperLink ``address``; yield its grid and context."""
    control = _runtime_client(address, token=None, component="SuperExec")
    try:
        token = acquire_task(control, TaskType.SERVER_APP, threading.Event(), 0.05, timeout)
    finally:
        control.close()
    assert token is not None
    grid = QuickPullGrid(runtime_api_address=address, insecure=True, token=token)
    runtime = grid._runtime_client
    heartbeat = HeartbeatSender(make_task_heartbeat_fn_http(runtime))
    context: Context | None = None
    status, details = FAILED, "vfl ServerApp host failed"
    try:
        heartbeat.start()
        res = runtime.PullTaskInput(PullTaskInputRequest())
        TaskIdentity.task_id = res.task_id
        TaskIdentity.run_id = res.run.run_id
        TaskIdentity.node_id = res.context.node_id
        context = context_from_proto(res.context)
        grid.set_run(run_from_proto(res.run))
        yield grid, context
        status, details = COMPLETED, ""
    except BaseException as exc:
        details = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        with suppress(httpx.HTTPError):  # if the SuperLink is gone, nobody needs the status
            runtime.PushTaskOutput(
                PushTaskOutputRequest(
                    context=context_to_proto(context) if context else None,
                    sub_status=status,
                    details=details,
                )
            )
        if heartbeat.is_running:
            heartbeat.stop()
        grid.close()
