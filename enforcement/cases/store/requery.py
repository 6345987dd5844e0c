"""The re-query schedule's storage: rounds per 终本 debtor, claimed with SKIP LOCKED.

Functions take the caller's connection: claiming a round, creating its search and marking it
submitted happen in one transaction, so a round is searched once even with many workers, and a
crash in between leaves it pending (nothing was sent: the search's tasks did not commit either).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from enforcement.cases.store.lifecycle import Conn
from enforcement.kernel.queries import Q


async def insert_rounds(conn: Conn, case_id: int, closed_on: date,
                        rounds: Sequence[tuple[int, int, date, date]]) -> None:
    """``rounds``: (party id, round number, due on, run on)."""
    await conn.execute(Q.drop_pending_rounds_of_other_closure, case_id, closed_on)
    if rounds:
        await conn.execute(Q.insert_requery_rounds, case_id, [r[0] for r in rounds], [r[1] for r in rounds],
                           closed_on, [r[2] for r in rounds], [r[3] for r in rounds])


async def cancel_pending(conn: Conn, case_id: int) -> None:
    await conn.execute(Q.cancel_pending_rounds, case_id)


async def claim_due(conn: Conn, today: date, interval_days: int, limit: int) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q.claim_due_requeries, today, interval_days, limit)]


async def mark_submitted(conn: Conn, round_ids: Sequence[int], search_ids: Sequence[UUID], at: datetime) -> None:
    await conn.execute(Q.mark_rounds_submitted, list(round_ids), list(search_ids), at)


async def mark_missed(conn: Conn, round_ids: Sequence[int]) -> None:
    if round_ids:
        await conn.execute(Q.mark_rounds_missed, list(round_ids))


async def sweep_missed(conn: Conn, today: date, interval_days: int) -> int:
    return len(await conn.fetch(Q.sweep_missed_rounds, today, interval_days))


async def complete_rounds(conn: Conn, at: datetime, property_kinds: Sequence[str], limit: int) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q.complete_requery_rounds, at, list(property_kinds), limit)]


async def dishonest_removal_facts(conn: Conn, case_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow(Q.dishonest_removal_facts, case_id)
    return None if row is None else dict(row)


async def rounds_of_case(conn: Conn, case_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q.requery_rounds_of_case, case_id)]


async def backlog(conn: Conn, today: date) -> tuple[int, int]:
    row = await conn.fetchrow(Q.requery_backlog, today)
    assert row is not None
    return int(row["due"]), int(row["in_flight"])


__all__ = [
    "backlog", "cancel_pending", "claim_due", "complete_rounds", "dishonest_removal_facts", "insert_rounds",
    "mark_missed", "mark_submitted", "rounds_of_case", "sweep_missed",
]
