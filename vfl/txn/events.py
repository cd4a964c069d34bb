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

from vfl.progress import ProgressEvent
from vfl.txn.records import RequestRecord

__all__ = ["Event", "RequestEvents"]

Event = ProgressEvent | RequestRecord


def _is_final(event: Event) -> bool:
    return isinstance(event, RequestRecord) and event.done


class RequestEvents:
    """Per-request event lists and one condition that wakes every watcher."""

    def __init__(self) -> None:
        self._events: dict[str, list[Event]] = {}
        self._changed = threading.Condition()

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
