"""Searches: created with their agency tasks in one transaction (the outbox), read back with
tasks and records, and followed through their event log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from enforcement.domain.audit import AuditEntry
from enforcement.store.audit import AuditLog, Conn
from enforcement.store.queries import Q


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


async def insert_search(conn: Conn, new: NewSearch) -> list[CreatedTask]:
    """Insert the search, its tasks and their first events (one statement); the caller holds the
    transaction and then calls ``announce``."""
    rows = await conn.fetch(
        Q.insert_search,
        new.id, new.case_id, new.batch_id, new.subject_kind, new.subject_id_number, new.subject_name,
        new.subject_key, new.purpose, new.requested_by, new.force_fresh, new.request_no,
        new.case_number, new.court_code, new.judge_name, new.judge_officer_id, new.document_number,
        new.date_from, new.date_to,
        [a.agency for a in new.agencies],
        [a.deadline_seconds for a in new.agencies],
        [a.freshness_hours for a in new.agencies],
    )
    return [CreatedTask(r["id"], r["agency"], r["status"], r["reused"]) for r in rows]


async def announce(conn: Conn, search_id: UUID, tasks: list[CreatedTask]) -> None:
    """Complete a search answered entirely from stored answers, and wake dispatchers and streams."""
    queued = ",".join(t.agency for t in tasks if t.status == "queued")
    if not queued:
        await conn.fetch(Q.complete_searches, [search_id])
    await conn.execute(Q.notify_new_search, queued)


class SearchStore:
    def __init__(self, pool: asyncpg.Pool, audit: AuditLog | None = None) -> None:
        self.pool = pool
        self.audit = audit

    async def create(self, new: NewSearch, *, audit_entry: AuditEntry | None = None) -> list[CreatedTask]:
        """Insert the search, its tasks and events, and its audit record, in ONE transaction: a search
        is never made without its audit record, nor recorded without being made."""
        if audit_entry is not None and self.audit is None:
            raise ValueError("an audit entry needs a SearchStore built with the audit log")
        async with self.pool.acquire() as conn, conn.transaction():
            tasks = await insert_search(conn, new)
            await announce(conn, new.id, tasks)
            if audit_entry is not None and self.audit is not None:
                # Last: the chain head stays locked until commit, so take it as late as possible.
                await self.audit.append(conn, audit_entry)
        return tasks

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


__all__ = ["AgencyPlan", "CreatedTask", "NewSearch", "SearchEvent", "SearchStore", "announce", "insert_search"]
