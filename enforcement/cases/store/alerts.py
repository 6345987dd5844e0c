"""Alerts for the judge, and the queue of answers to review for them.

``AlertStore`` reads and updates alerts on the pool, and owns the transaction in which queued
answers are reviewed (``async with store.review() as tx``: the answers taken off the queue and
the alerts they raise commit together; a failure puts them back). The ``*_on`` functions are the
SQL other cases stores run inside their own transactions (the lifecycle raises breaches and
resolves alerts, the re-query raises the removal alert). Values are frozen, never driver rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from enforcement.domain.audit import AuditEntry
from enforcement.domain.breaches import RestrictionOrder
from enforcement.kernel.audit import AuditLog, Conn
from enforcement.kernel.queries import Q

Db = asyncpg.Pool | Conn


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


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A renewal or release of the control a renewal-due alert is about: the measure, its status
    and its assistance notice (协助执行通知书) number."""

    id: int
    kind: str
    status: str
    notice_number: str


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert with its case (``list_alerts``, ``get_alert``)."""

    id: int
    kind: str
    case_id: int
    case_number: str
    court_code: str
    judge_login: str | None
    party_id: int | None
    debtor_name: str | None
    search_id: UUID | None
    round_id: int | None
    event_id: int | None
    due_on: date | None
    evidence: dict[str, Any]
    status: str
    raised_at: datetime
    updated_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    case_status: str
    closure_mode: str | None
    # A renewal-due alert's renewal or release submitted since it was raised (the latest), if any.
    follow_up: FollowUp | None = None
    # Who resolved it and when (a person, 'system', or a case event's source); the acknowledgement is kept apart.
    resolved_by: str | None = None
    resolved_at: datetime | None = None

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> Alert:
        return cls(
            int(r["id"]), r["kind"], int(r["case_id"]), r["case_number"], r["court_code"], r["judge_login"],
            None if r["party_id"] is None else int(r["party_id"]), r["debtor_name"], r["search_id"], r["round_id"],
            r["event_id"], r["due_on"], r["evidence"] if isinstance(r["evidence"], dict) else {}, r["status"],
            r["raised_at"], r["updated_at"], r["acknowledged_by"], r["acknowledged_at"], r["case_status"],
            r["closure_mode"],
            None if r["follow_up_id"] is None else FollowUp(int(r["follow_up_id"]), r["follow_up_kind"],
                                                            r["follow_up_status"], r["follow_up_notice"]),
            r["resolved_by"], r["resolved_at"])


@dataclass(frozen=True, slots=True)
class AnswerForReview:
    """A queued answer: its search, purpose, subject and case, and its re-query round if any."""

    answer_id: int
    search_id: UUID
    case_id: int
    agency: str
    purpose: str
    subject_kind: str
    subject_id_number: str
    subject_key: str
    round_id: int | None
    round_party_id: int | None
    round_case_id: int | None

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> AnswerForReview:
        return cls(int(r["answer_id"]), r["search_id"], int(r["case_id"]), r["agency"], r["purpose"],
                   r["subject_kind"], r["subject_id_number"], r["subject_key"], r["round_id"], r["round_party_id"],
                   r["round_case_id"])


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """A record of an answer, and whether it was first seen in the answer's search."""

    answer_id: int
    kind: str
    natural_key: str
    data: dict[str, Any]
    first_seen: bool

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> AnswerRecord:
        return cls(int(r["answer_id"]), r["kind"], r["natural_key"], r["data"] if isinstance(r["data"], dict) else {},
                   bool(r["first_seen"]))


async def raise_alert_on(db: Db, a: NewAlert) -> bool:
    """Insert once per dedupe key (merging evidence assets on a repeat); True when created now."""
    row = await db.fetchrow(Q.upsert_alert, a.kind, a.dedupe_key, a.case_id, a.party_id, a.search_id,
                            a.round_id, a.event_id, a.due_on, a.evidence)
    return bool(row is not None and row["created"])


async def resolve_case_alerts_on(db: Db, case_id: int, kinds: Sequence[str], by: str) -> None:
    await db.execute(Q.resolve_alerts_of_case, case_id, list(kinds), by)


async def restriction_orders_on(db: Db, subject_kind: str, id_number: str,
                                case_id: int | None = None) -> list[RestrictionOrder]:
    """The consumption restriction orders of case ``case_id`` binding the subject, as its debtor or
    as a responsible person of its organization debtor; never another case's (the search was made
    for that case: its answer serves that case only, DOMAIN.md §6). No case: no order."""
    return [RestrictionOrder(int(o["case_id"]), int(o["event_id"]), int(o["party_id"]), o["issued_on"],
                             o["lifted_on"], bound_role=o["bound_role"], bound_name=o["bound_name"],
                             debtor_name=o["debtor_name"])
            for o in await db.fetch(Q.restriction_orders_of_subject, subject_kind, id_number, case_id)]


class ReviewTx:
    """One open review transaction (from ``AlertStore.review``)."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def claim(self, limit: int) -> list[int]:
        """Answer ids taken off the queue (SKIP LOCKED); back on it if the transaction fails."""
        return [int(r["answer_id"]) for r in await self._conn.fetch(Q.claim_answer_reviews, limit)]

    async def answers(self, answer_ids: Sequence[int]) -> list[AnswerForReview]:
        return [AnswerForReview.from_row(r) for r in await self._conn.fetch(Q.answers_for_review, list(answer_ids))]

    async def records(self, answer_ids: Sequence[int], kinds: Sequence[str]) -> list[AnswerRecord]:
        return [AnswerRecord.from_row(r)
                for r in await self._conn.fetch(Q.records_of_answers, list(answer_ids), list(kinds))]

    async def restriction_orders_of(self, subject_kind: str, id_number: str,
                                    case_id: int | None = None) -> list[RestrictionOrder]:
        return await restriction_orders_on(self._conn, subject_kind, id_number, case_id)

    async def raise_alert(self, alert: NewAlert) -> bool:
        return await raise_alert_on(self._conn, alert)


class AlertStore:
    """The alerts' store: reads and status changes on the pool; ``review()`` for the review queue."""

    def __init__(self, pool: asyncpg.Pool, audit: AuditLog | None = None) -> None:
        self.pool = pool
        self.audit = audit  # a person's status change is audited with it (set_status)

    async def list_alerts(self, f: AlertFilter) -> tuple[list[Alert], int]:
        rows = await self.pool.fetch(Q.list_alerts, f.court_code, f.judge_login, f.status, f.kind, f.case_id,
                                     f.limit, f.offset)
        total = int(rows[0]["total"]) if rows else 0
        return [Alert.from_row(r) for r in rows], total

    async def get_alert(self, alert_id: int) -> Alert | None:
        row = await self.pool.fetchrow(Q.get_alert, alert_id)
        return None if row is None else Alert.from_row(row)

    async def set_status(self, alert_id: int, status: str, entry: AuditEntry) -> str | None:
        """A person's change of the alert's status, audited in the same transaction: ``entry``
        (who, the case) completed with the alert's kind and the status it had (``from``) and takes
        (``to``). The status it had; None: it had this status already (nothing changed, no record)."""
        if self.audit is None:
            raise RuntimeError("AlertStore was built without the audit log: a status change is audited")
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(Q.set_alert_status, alert_id, status, entry.actor_login)
            if row is None:
                return None
            await self.audit.append(conn, replace(entry, case_id=int(row["case_id"]), target=f"alert:{alert_id}",
                                                  details={"alert_kind": row["kind"], "from": row["from_status"],
                                                           "to": status}))
            return str(row["from_status"])

    async def restriction_orders_of(self, subject_kind: str, id_number: str,
                                    case_id: int | None = None) -> list[RestrictionOrder]:
        return await restriction_orders_on(self.pool, subject_kind, id_number, case_id)

    async def first_seen_in_search(self, subject_key: str, search_id: UUID, kinds: Sequence[str]
                                   ) -> list[dict[str, str]]:
        """The subject's assets of these kinds seen for the first time in this search: [{kind, natural_key}]."""
        return [{"kind": str(r["kind"]), "natural_key": str(r["natural_key"])}
                for r in await self.pool.fetch(Q.property_first_seen_in_search, subject_key, search_id, list(kinds))]

    @asynccontextmanager
    async def review(self) -> AsyncIterator[ReviewTx]:
        """One review transaction: committed when the block ends, rolled back when it raises."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield ReviewTx(conn)


__all__ = [
    "Alert", "AlertFilter", "AlertStore", "AnswerForReview", "AnswerRecord", "FollowUp", "NewAlert", "ReviewTx",
    "raise_alert_on", "resolve_case_alerts_on", "restriction_orders_on",
]
