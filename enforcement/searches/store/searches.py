"""Searches: created with their agency tasks in one transaction (the outbox), read back with
tasks and records, and followed through their event log; the case a search is made for, and
its 协助查询通知书 serial.

A judge's submission (``SearchStore.create``) is ONE statement (``submit_search``): the search,
its tasks, their events, its audit record and the notifications, in the statement's own
transaction, or inside a caller's (a system search made along with other work).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from enforcement.domain.audit import AuditEntry
from enforcement.kernel import metrics
from enforcement.kernel.audit import AuditLog, Conn
from enforcement.kernel.queries import Q


@dataclass(frozen=True, slots=True)
class AgencyPlan:
    """What the planner decided for one agency of a new search."""

    agency: str
    deadline_seconds: float
    freshness_hours: float


@dataclass(frozen=True, slots=True)
class NewSearch:
    id: UUID
    case_id: int
    subject_kind: str
    subject_id_number: str
    subject_name: str
    subject_key: str
    purpose: str
    requested_by: str
    force_fresh: bool
    request_no: str
    case_number: str
    court_code: str
    judge_name: str
    judge_officer_id: str
    document_number: str
    agencies: Sequence[AgencyPlan]
    batch_id: UUID | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True, slots=True)
class CreatedTask:
    id: int
    agency: str
    status: str
    reused: bool
    answer_id: int | None = None  # the stored answer it was answered from (reused)


@dataclass(frozen=True, slots=True)
class SearchEvent:
    id: int
    search_id: UUID
    agency: str | None
    kind: str
    payload: dict[str, Any]
    created_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> SearchEvent:
        return cls(row["id"], row["search_id"], row["agency"], row["kind"], dict(row["payload"]), row["created_at"])


# The audit columns of ``submit_search`` ($22..$36) when the submission writes no record.
_NO_RECORD: tuple[None, ...] = (None,) * 15


def _search_values(new: NewSearch) -> tuple[Any, ...]:
    """$1..$21 of ``submit_search``."""
    return (
        new.id, new.case_id, new.batch_id, new.subject_kind, new.subject_id_number, new.subject_name,
        new.subject_key, new.purpose, new.requested_by, new.force_fresh, new.request_no,
        new.case_number, new.court_code, new.judge_name, new.judge_officer_id, new.document_number,
        new.date_from, new.date_to,
        [a.agency for a in new.agencies],
        [a.deadline_seconds for a in new.agencies],
        [a.freshness_hours for a in new.agencies],
    )


def _task(r: asyncpg.Record) -> CreatedTask:
    return CreatedTask(r["id"], r["agency"], r["status"], r["reused"], r["answer_id"])


async def submit_search(conn: Conn | asyncpg.Pool, new: NewSearch, audit: AuditLog | None = None,
                        audit_entry: AuditEntry | None = None) -> list[CreatedTask]:
    """Insert the search, its tasks and events, and its audit record, in ONE statement (its own
    transaction, or the caller's when ``conn`` holds one): a search is never made without its
    audit record, nor recorded without being made. A search answered entirely from stored
    answers is completed at once; dispatchers, event streams and audit chainers are woken at
    commit."""
    if audit_entry is not None and audit is None:
        raise ValueError("an audit entry needs the audit log")
    record = _NO_RECORD if audit_entry is None or audit is None else audit.signed_row(audit_entry)
    rows = await conn.fetch(Q.submit_search, *_search_values(new), *record)
    if audit_entry is not None:
        if rows[0]["audit_id"] is None:  # cannot happen: the statement writes it with the search
            raise RuntimeError("the search's audit record was not written")
        metrics.AUDIT_RECORDS.labels(action=audit_entry.action).inc()
    # No agency at all: one row without a task (the search is made, completed, announced).
    return [_task(r) for r in rows if r["id"] is not None]


async def case_for_search(conn: Conn | asyncpg.Pool, case_id: int) -> asyncpg.Record | None:
    """The case with its judge's name and officer id, and its status; None if there is none."""
    return await conn.fetchrow(Q.get_case_for_search, case_id)


async def next_document_serial(conn: Conn | asyncpg.Pool, court_code: str) -> int:
    """The court's next 协助查询通知书 serial this year (consumed, whatever the caller does next)."""
    return int(await conn.fetchval(Q.next_document_serial, court_code))


class SearchStore:
    def __init__(self, pool: asyncpg.Pool, audit: AuditLog | None = None) -> None:
        self.pool = pool
        self.audit = audit

    async def create(self, new: NewSearch, *, audit_entry: AuditEntry | None = None) -> list[CreatedTask]:
        """``submit_search`` on the pool: one statement, its own transaction."""
        if audit_entry is not None and self.audit is None:
            raise ValueError("an audit entry needs a SearchStore built with the audit log")
        return await submit_search(self.pool, new, self.audit, audit_entry)

    async def case_for_search(self, case_id: int) -> asyncpg.Record | None:
        return await case_for_search(self.pool, case_id)

    async def case_for_submission(self, case_id: int, subject_kind: str, id_number: str, *, actor_login: str,
                                  actor_role: str, take_serial: bool) -> asyncpg.Record | None:
        """The case (None if there is none), its judge, whether the subject is one of its debtors
        (``is_debtor``), and, when ``take_serial``, the court's next 协助查询通知书 serial
        (``serial``) in the same statement, taken only if the search is allowed (the rule of
        ``domain.authorization.check_search``, mirrored in SQL): a refusal consumes no number.
        ``serial`` is None when none was taken; the caller still applies ``check_search``."""
        return await self.pool.fetchrow(Q.case_for_search_with_serial, case_id, subject_kind, id_number,
                                        actor_login, actor_role, take_serial)

    async def next_document_serial(self, court_code: str) -> int:
        return await next_document_serial(self.pool, court_code)

    async def get(self, search_id: UUID) -> asyncpg.Record | None:
        return await self.pool.fetchrow(Q.get_search, search_id)

    async def tasks(self, search_id: UUID) -> list[asyncpg.Record]:
        return list(await self.pool.fetch(Q.get_search_tasks, search_id))

    async def records(self, search_id: UUID) -> list[asyncpg.Record]:
        return list(await self.pool.fetch(Q.get_search_records, search_id))

    async def previous_search(self, subject_key: str, before: datetime) -> asyncpg.Record | None:
        return await self.pool.fetchrow(Q.previous_search_of_subject, subject_key, before)

    async def events_after(self, last_id: int, limit: int = 1000) -> list[SearchEvent]:
        return [SearchEvent.from_row(r) for r in await self.pool.fetch(Q.events_after, last_id, limit)]

    async def events_of(self, search_id: UUID, after: int = 0) -> list[SearchEvent]:
        return [SearchEvent.from_row(r) for r in await self.pool.fetch(Q.events_of_search, search_id, after)]

    async def last_event_id(self) -> int:
        value = await self.pool.fetchval(Q.last_event_id)
        return int(value or 0)


__all__ = [
    "AgencyPlan",
    "CreatedTask",
    "NewSearch",
    "SearchEvent",
    "SearchStore",
    "case_for_search",
    "next_document_serial",
    "submit_search",
]
