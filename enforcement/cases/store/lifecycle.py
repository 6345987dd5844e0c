"""Case lifecycle storage: events, the derived lifecycle row, the facts the 终本 checklist and the
breach check read. Functions take the caller's connection, so that an event, the lifecycle it
changes, the closure verdict, the re-query rounds and the alerts commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from enforcement.domain.cases import CaseRejected, case_number_key
from enforcement.kernel.queries import Q

Conn = asyncpg.Connection | PoolConnectionProxy | asyncpg.Pool


def _dict(row: asyncpg.Record | None) -> dict[str, Any] | None:
    return None if row is None else dict(row)


async def case_for_update(conn: Conn, case_id: int) -> dict[str, Any] | None:
    return _dict(await conn.fetchrow(Q.lock_case_for_lifecycle, case_id))


async def get_case(conn: Conn, case_id: int) -> dict[str, Any] | None:
    return _dict(await conn.fetchrow(Q.get_case_for_lifecycle, case_id))


async def case_id_for_number(conn: Conn, case_number: str) -> int | None:
    """The case a number names, however it is written (full-width, brackets, spaces, leading
    zeros: ``case_number_key``); None for no case or a text that is not a case number."""
    try:
        key = case_number_key(case_number)
    except CaseRejected:
        return None
    value = await conn.fetchval(Q.case_id_for_number, key)
    return None if value is None else int(value)


async def events_of(conn: Conn, case_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q.events_of_case, case_id)]


async def events_of_cases(conn: Conn, case_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {cid: [] for cid in case_ids}
    for r in await conn.fetch(Q.events_of_cases, list(case_ids)):
        out[r["case_id"]].append(dict(r))
    return out


async def event_by_external_id(conn: Conn, case_id: int, external_id: str) -> dict[str, Any] | None:
    return _dict(await conn.fetchrow(Q.event_by_external_id, case_id, external_id))


async def insert_event(conn: Conn, case_id: int, event_type: str, occurred_on: date, data: dict[str, Any],
                       source: str, external_id: str | None) -> dict[str, Any]:
    row = await conn.fetchrow(Q.insert_case_event, case_id, event_type, occurred_on, data, source, external_id)
    assert row is not None
    return dict(row)


async def upsert_lifecycle(conn: Conn, case_id: int, *, filed_on: date, non_litigation: bool, base_months: int,
                           extension_months: int, extension_days: int, suspended_days: int,
                           suspended_since: date | None, deadline: date | None, settlement_performed: bool,
                           resumed_on: date | None, params: str) -> None:
    await conn.execute(Q.upsert_case_lifecycle, case_id, filed_on, non_litigation, base_months, extension_months,
                       extension_days, suspended_days, suspended_since, deadline, settlement_performed, resumed_on,
                       params)


async def get_lifecycle(conn: Conn, case_id: int) -> dict[str, Any] | None:
    return _dict(await conn.fetchrow(Q.get_case_lifecycle, case_id))


async def set_closure_verdict(conn: Conn, case_id: int, *, qualified: bool, missing: Sequence[str],
                              override_by: str | None, override_reason: str | None) -> None:
    await conn.execute(Q.set_closure_verdict, case_id, qualified, list(missing), override_by, override_reason)


async def set_requery_for(conn: Conn, case_id: int, closed_on: date | None) -> None:
    await conn.execute(Q.set_requery_for, case_id, closed_on)


async def update_case_status(conn: Conn, case_id: int, *, status: str, closure_mode: str | None,
                             closed_on: date | None, amount_recovered: Decimal | None) -> None:
    await conn.execute(Q.update_case_status, case_id, status, closure_mode, closed_on, amount_recovered)


async def debtors_of(conn: Conn, case_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q.debtors_of_case, case_id)]


async def search_facts_of(conn: Conn, case_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q.search_facts_of_case, case_id)]


async def stale_cases(conn: Conn, court_code: str | None, params: str, limit: int) -> list[int]:
    return [int(r["id"]) for r in await conn.fetch(Q.lifecycle_stale_cases, court_code, params, limit)]


async def restriction_orders_of(conn: Conn, subject_kind: str, id_number: str) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q.restriction_orders_of_subject, subject_kind, id_number)]


async def hotel_stays_of(conn: Conn, subject_keys: Sequence[str]) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q.hotel_stays_of_subjects, list(subject_keys))]


__all__ = [
    "Conn", "case_for_update", "case_id_for_number", "debtors_of", "event_by_external_id", "events_of",
    "events_of_cases", "get_case", "get_lifecycle", "hotel_stays_of", "insert_event", "restriction_orders_of",
    "search_facts_of", "set_closure_verdict", "set_requery_for", "stale_cases", "update_case_status",
    "upsert_lifecycle",
]
