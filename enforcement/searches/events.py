"""The event hub: follows ``search_event`` rows and hands them to subscribed streams.

Any process may write events; PostgreSQL NOTIFY wakes every API process, which reads the new
rows once and fans them out to the SSE streams it holds. A stream replays the search's events
from the table when it starts and whenever it has been idle a while, so an event the hub missed
(ids are not committed in order) still arrives, a little later. The replay also derives the
search's submission events from its tasks (decision 1930): the hub never carries those.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from uuid import UUID

import structlog

from enforcement.kernel.waits import wait_set
from enforcement.searches.store.searches import SearchEvent, SearchStoreProtocol

log = structlog.get_logger(__name__)


class EventHub:
    def __init__(self, store: SearchStoreProtocol) -> None:
        self.store = store
        self._subscribers: dict[UUID, set[asyncio.Queue[SearchEvent]]] = defaultdict(set)
        self._last_id = 0
        self._stale = False
        self._dirty = asyncio.Event()
        self._lock = asyncio.Lock()

    @property
    def subscriber_count(self) -> int:
        """Streams subscribed now."""
        return sum(len(v) for v in self._subscribers.values())

    async def start(self) -> None:
        """Follow from the newest event: streams replay older ones from the table themselves."""
        self._last_id = await self.store.last_event_id()

    def notify(self, _payload: str = "") -> None:
        """New events were committed (a NOTIFY on ``search_events``): pump them."""
        self._dirty.set()

    async def subscribe(self, search_id: UUID) -> asyncio.Queue[SearchEvent]:
        """Register a stream. Call before replaying the search's events from the table: every
        event committed after this returns is either in that replay or handed to the queue."""
        async with self._lock:
            if self._stale:
                self._last_id = await self.store.last_event_id()
                self._stale = False
            queue: asyncio.Queue[SearchEvent] = asyncio.Queue(maxsize=10_000)
            self._subscribers[search_id].add(queue)
        return queue

    def unsubscribe(self, search_id: UUID, queue: asyncio.Queue[SearchEvent]) -> None:
        """Forget a stream (it ended or its client went away)."""
        subs = self._subscribers.get(search_id)
        if subs is not None:
            subs.discard(queue)
            if not subs:
                del self._subscribers[search_id]

    async def run(self, *, poll_seconds: float = 1.0) -> None:
        """Fan out new events whenever notified (and every ``poll_seconds`` as a safety net)."""
        while True:
            await wait_set(self._dirty, poll_seconds)
            self._dirty.clear()
            try:
                if self._subscribers:
                    await self._pump()
                else:  # nobody listens: catch up when someone does (streams replay from the table)
                    self._stale = True
            except Exception as exc:
                log.warning("event_pump_failed", error=type(exc).__name__)

    async def _pump(self) -> None:
        async with self._lock:
            while True:
                events = await self.store.events_after(self._last_id, 1000)
                for ev in events:
                    self._last_id = ev.id
                    for queue in self._subscribers.get(ev.search_id, ()):
                        if not queue.full():
                            queue.put_nowait(ev)
                if len(events) < 1000:
                    break


__all__ = ["EventHub"]
