"""LISTEN on PostgreSQL channels with a dedicated connection that comes back after the database
restarts. Notifications only wake; the state is always re-read from the tables, so a notification
lost during a reconnect costs latency, never correctness.

``Listener`` is the process's one listening connection (``LISTENER``): each feature subscribes its
channels to it, and it LISTENs on all of them. PostgreSQL signals every listening backend of the
database on every NOTIFY, whatever its channels, and each signalled backend wakes and reads the
queue: with a connection per channel a process cost the database one wake-up per channel for each
notification (five listening backends with one worker, fourteen with four), where one connection
costs one (issue 19, decision 1935). ``listen_forever`` is one channel on a connection of its own,
for the benchmarks' bare chainers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog
from aiohttp import web

from enforcement.kernel.waits import wait_set

log = structlog.get_logger(__name__)

APPLICATION_NAME = "enforcement listener"
_LOST = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


class Listener:
    """One connection LISTENing on every subscribed channel, re-established after it is lost; each
    notification goes to its channel's callbacks, and every (re)connection calls every
    ``on_reconnect`` (notifications sent while away are lost: re-check the tables). The connection
    is opened at the first subscription."""

    def __init__(self, dsn: str, *, retry_seconds: float = 1.0, ping_seconds: float = 10.0) -> None:
        self._dsn = dsn
        self._retry_seconds = retry_seconds
        self._ping_seconds = ping_seconds
        self._callbacks: dict[str, list[Callable[[str], None]]] = {}
        self._on_reconnect: list[Callable[[], None]] = []
        self._conn: asyncpg.Connection | None = None
        self._listening: set[str] = set()
        self._lock = asyncio.Lock()  # one operation at a time on the connection
        self._task: asyncio.Task[None] | None = None

    @property
    def channels(self) -> frozenset[str]:
        """The channels subscribed to."""
        return frozenset(self._callbacks)

    async def subscribe(self, channel: str, on_notify: Callable[[str], None], *,
                        on_reconnect: Callable[[], None] | None = None) -> None:
        """Call ``on_notify(payload)`` for each notification on ``channel`` from now on, and
        ``on_reconnect()`` after each reconnection (and once now: what was sent before is not
        heard, so the subscriber re-checks)."""
        self._callbacks.setdefault(channel, []).append(on_notify)
        if on_reconnect is not None:
            self._on_reconnect.append(on_reconnect)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="listener")
        else:
            with contextlib.suppress(*_LOST):  # lost meanwhile: the reconnection listens on it
                await self._listen(channel)
        if on_reconnect is not None:
            on_reconnect()

    async def close(self) -> None:
        """Stop listening and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _dispatch(self, _conn: Any, _pid: int, channel: str, payload: object) -> None:
        for callback in self._callbacks.get(channel, ()):
            callback(str(payload))

    async def _listen(self, channel: str) -> None:
        async with self._lock:
            conn = self._conn
            if conn is None or conn.is_closed() or channel in self._listening:
                return
            self._listening.add(channel)
            await conn.add_listener(channel, self._dispatch)

    async def _run(self) -> None:
        while True:
            try:
                conn = await asyncpg.connect(self._dsn, server_settings={"application_name": APPLICATION_NAME})
            except asyncio.CancelledError:
                raise
            except _LOST as exc:
                log.warning("listen_connection_lost", channels=sorted(self._callbacks), error=type(exc).__name__)
                await asyncio.sleep(self._retry_seconds)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            try:
                self._conn, self._listening = conn, set()
                for channel in list(self._callbacks):
                    await self._listen(channel)
                for callback in list(self._on_reconnect):
                    callback()
                while not await wait_set(lost, self._ping_seconds):
                    async with self._lock:
                        await conn.execute("SELECT 1")  # a dead server shows up here
            except asyncio.CancelledError:
                raise
            except _LOST as exc:
                log.warning("listen_connection_lost", channels=sorted(self._callbacks), error=type(exc).__name__)
            finally:
                self._conn = None
                await _close(conn)
            await asyncio.sleep(self._retry_seconds)


async def _close(conn: asyncpg.Connection) -> None:
    if conn.is_closed():
        return
    try:
        async with asyncio.timeout(2):
            await conn.close()
    except (TimeoutError, *_LOST):
        conn.terminate()


async def listen_forever(
    dsn: str,
    channel: str,
    on_notify: Callable[[str], None],
    *,
    on_reconnect: Callable[[], None] | None = None,
    retry_seconds: float = 1.0,
) -> None:
    """One channel on a connection of its own, until cancelled (``Listener`` is the service's)."""
    listener = Listener(dsn, retry_seconds=retry_seconds)
    await listener.subscribe(channel, on_notify, on_reconnect=on_reconnect)
    try:
        await asyncio.Event().wait()
    finally:
        await listener.close()


LISTENER = web.AppKey("listener", Listener)

__all__ = ["APPLICATION_NAME", "LISTENER", "Listener", "listen_forever"]
