"""The process's one listening connection (decision 1935): every subscribed channel on it, each
notification to its own channel's callbacks, a channel subscribed after the connection is up
heard too, one backend however many channels, and gone when closed."""

from __future__ import annotations

import asyncio

import asyncpg

from enforcement.kernel.notify import APPLICATION_NAME, Listener


async def _until(check: object, what: str) -> None:
    for _ in range(100):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.02)
    raise AssertionError(what)


async def test_channels_share_one_connection_and_each_hears_its_own(pool: asyncpg.Pool, db_url: str) -> None:
    heard: list[tuple[str, str]] = []
    reconnects: list[str] = []
    listener = Listener(db_url)
    await listener.subscribe("alpha", lambda p: heard.append(("alpha", p)), on_reconnect=lambda: reconnects.append("a"))
    await listener.subscribe("beta", lambda p: heard.append(("beta", p)))
    try:
        async def backends() -> int:
            n: int = await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 "
                                         "AND datname = current_database()", APPLICATION_NAME)
            return n

        for _ in range(100):
            if await backends():
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)  # the LISTENs follow the connection
        await pool.execute("SELECT pg_notify('alpha', '1'), pg_notify('beta', '2'), pg_notify('gamma', '3')")
        await _until(lambda: len(heard) >= 2, "both channels heard")
        assert sorted(heard) == [("alpha", "1"), ("beta", "2")]
        # subscribed while connected: heard from then on, on the same connection
        await listener.subscribe("gamma", lambda p: heard.append(("gamma", p)))
        await pool.execute("SELECT pg_notify('gamma', '4')")
        await _until(lambda: ("gamma", "4") in heard, "the late channel heard")
        assert await backends() == 1
        assert listener.channels == {"alpha", "beta", "gamma"}
        assert reconnects  # told at subscription (and at the connection): re-check what was missed
    finally:
        await listener.close()
    for _ in range(100):
        if not await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 "
                                   "AND datname = current_database()", APPLICATION_NAME):
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the listening connection outlived close()")
