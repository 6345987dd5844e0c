"""LISTEN on a PostgreSQL channel with a dedicated connection that comes back after the
database restarts. Notifications only wake; the state is always re-read from the tables, so a
notification lost during a reconnect costs latency, never correctness.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import structlog

from enforcement.kernel.waits import wait_set

log = structlog.get_logger(__name__)


async def listen_forever(
    dsn: str,
    channel: str,
    on_notify: Callable[[str], None],
    *,
    on_reconnect: Callable[[], None] | None = None,
    retry_seconds: float = 1.0,
) -> None:
    """Run until cancelled. ``on_reconnect`` is called after every (re)connection, because
    notifications sent while we were away are lost: the caller should re-check its tables."""
    while True:
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(dsn)
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            await conn.add_listener(channel, lambda _c, _pid, _ch, payload: on_notify(payload))
            if on_reconnect is not None:
                on_reconnect()
            while not await wait_set(lost, 10):
                await conn.execute("SELECT 1")  # a dead server shows up here
        except asyncio.CancelledError:
            raise
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("listen_connection_lost", channel=channel, error=type(exc).__name__)
        finally:
            if conn is not None and not conn.is_closed():
                try:
                    async with asyncio.timeout(2):
                        await conn.close()
                except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    conn.terminate()
        await asyncio.sleep(retry_seconds)


__all__ = ["listen_forever"]
