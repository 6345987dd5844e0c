"""Document serials count in the court's year, Beijing time (migration 0033): a notice taken at
00:30 on 1 January in Beijing (16:30 UTC on 31 December) belongs to the new year, in the
counter and in the printed number alike, whatever the database session's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from enforcement.searches.store.searches import SearchStore


async def test_the_court_year_turns_at_midnight_in_beijing(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("SET TIME ZONE 'UTC'")
        try:
            assert await conn.fetchval("SELECT court_year($1)", datetime(2026, 12, 31, 15, 59, tzinfo=UTC)) == 2026
            assert await conn.fetchval("SELECT court_year($1)", datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == 2027
            assert await conn.fetchval("SELECT court_year($1)", datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) == 2027
            await conn.execute("SET TIME ZONE 'America/New_York'")  # the session's zone does not matter
            assert await conn.fetchval("SELECT court_year($1)", datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) == 2027
        finally:
            await conn.execute("RESET TIME ZONE")


async def test_a_serial_comes_with_the_year_it_was_counted_in(pool: asyncpg.Pool) -> None:
    store = SearchStore(pool)
    year, first = await store.next_document_serial("辽0102")
    assert year == await pool.fetchval("SELECT court_year(now())")
    assert await store.next_document_serial("辽0102") == (year, first + 1)
    assert await pool.fetchval("SELECT last FROM document_serial WHERE court_code = '辽0102' AND year = $1",
                               year) == first + 1
