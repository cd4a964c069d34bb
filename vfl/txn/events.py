"""Live progress of requests for watchers (``vfl unlearn --wait``, the ``Watch`` RPC).

The runner publishes each request's progress events and status changes here;
any number of watchers follow one request, from its first event on, until it
is committed or aborted. Progress is only for live watchers: once a request
finishes, its history is compacted to the final record (which the journal
holds anyway), so memory does not grow with every request ever run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from vfl.errors import ResourceLimitError
from vfl.progress import ProgressEvent
from vfl.txn.records import RequestRecord

__all__ = ["Event", "RequestEvents"]

Event = ProgressEvent | RequestRecord


def _is_final(event: Event) -> bool:
    return isinstance(event, RequestRecord) and event.done


class RequestEvents:
    """Per-request event lists and one condition that wakes every watcher.

    At most ``max_watchers`` follow requests at once (:meth:`slot`): each live
    watcher holds a server thread for as long as its request runs, so without
    a bound a few ``--wait`` clients would leave no thread for anything else.
    """

    def __init__(self, max_watchers: int = 4) -> None:
        self._events: dict[str, list[Event]] = {}
        self._changed = threading.Condition()
        self.max_watchers = max_watchers
        self._slots = threading.BoundedSemaphore(max_watchers)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the watcher slots, or raise :class:`ResourceLimitError` if none is free."""
        if not self._slots.acquire(blocking=False):
            raise ResourceLimitError(
                f"{self.max_watchers} watchers already follow requests; poll the request "
                "(vfl requests show ID) or watch again later"
            )
        try:
            yield
        finally:
            self._slots.release()

    def publish(self, request_id: str, event: Event) -> None:
        with self._changed:
            self._events.setdefault(request_id, []).append(event)
            if _is_final(event):
                self._events[request_id] = [event]
            self._changed.notify_all()

    def watch(self, request_id: str, alive: Callable[[], bool] = lambda: True) -> Iterator[Event]:
        """Every event of the request so far and then live, until it is committed or aborted.

        ``alive`` is polled every second so an abandoned watcher does not hang on.
        """
        seen = 0
        while alive():
            with self._changed:
                self._changed.wait_for(
                    lambda n=seen: len(self._events.get(request_id, [])) > n, timeout=1.0
                )
                events = list(self._events.get(request_id, []))
            new = events[seen:]
            final = events[-1] if events and _is_final(events[-1]) else None
            if final is not None and not (new and _is_final(new[-1])):
                new = [final]  # the history was compacted when the request finished
            if not new:
                continue
            seen += len(new)
            yield from new
            if _is_final(new[-1]):
                return
