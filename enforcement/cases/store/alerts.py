"""Alerts for the judge, and the queue of answers to review for them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from enforcement.cases.store.lifecycle import Conn
from enforcement.kernel.queries import Q


@dataclass(frozen=True, slots=True)
class NewAlert:
    kind: str
    dedupe_key: str
    case_id: int
    evidence: dict[str, Any]
    party_id: int | None = None
    search_id: UUID | None = None
    round_id: int | None = None
    event_id: int | None = None
    due_on: date | None = None


@dataclass(frozen=True, slots=True)
class AlertFilter:
    court_code: str | None = None
    judge_login: str | None = None
    status: str | None = None
    kind: str | None = None
    case_id: int | None = None
    limit: int = 100
    offset: int = 0


async def raise_alert(conn: Conn, a: NewAlert) -> bool:
    """Insert once per dedupe key (merging evidence assets on a repeat); True when created now."""
    row = await conn.fetchrow(Q.upsert_alert, a.kind, a.dedupe_key, a.case_id, a.party_id, a.search_id,
                              a.round_id, a.event_id, a.due_on, a.evidence)
    return bool(row is not None and row["created"])


async def list_alerts(conn: Conn, f: AlertFilter) -> tuple[list[dict[str, Any]], int]:
    rows = await conn.fetch(Q.list_alerts, f.court_code, f.judge_login, f.status, f.kind, f.case_id, f.limit, f.offset)
    total = int(rows[0]["total"]) if rows else 0
    return [dict(r) for r in rows], total


async def get_alert(conn: Conn, alert_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow(Q.get_alert, alert_id)
    return None if row is None else dict(row)


async def set_status(conn: Conn, alert_id: int, status: str, by: str) -> None:
    await conn.execute(Q.set_alert_status, alert_id, status, by)


async def resolve_case_alerts(conn: Conn, case_id: int, kinds: Sequence[str], by: str) -> None:
    await conn.execute(Q.resolve_alerts_of_case, case_id, list(kinds), by)


async def claim_reviews(conn: Conn, limit: int) -> list[int]:
    return [int(r["answer_id"]) for r in await conn.fetch(Q.claim_answer_reviews, limit)]


async def answers_for_review(conn: Conn, answer_ids: Sequence[int]) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q.answers_for_review, list(answer_ids))]


async def records_of_answers(conn: Conn, answer_ids: Sequence[int], kinds: Sequence[str]) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q.records_of_answers, list(answer_ids), list(kinds))]


async def first_seen_in_search(conn: Conn, subject_key: str, search_id: UUID, kinds: Sequence[str]
                               ) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q.property_first_seen_in_search, subject_key, search_id, list(kinds))]


__all__ = [
    "AlertFilter",
    "NewAlert",
    "answers_for_review",
    "claim_reviews",
    "first_seen_in_search",
    "get_alert",
    "list_alerts",
    "raise_alert",
    "records_of_answers",
    "resolve_case_alerts",
    "set_status",
]
