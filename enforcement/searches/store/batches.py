"""Bulk searches: up to ten thousand searches stored in one transaction, set-based (a handful
of statements whatever the size), read back as progress and pages of per-subject results.

Callers get frozen values (``CaseForSearch``, ``BatchRecord``, ``BatchCounts``, ``BatchRow``,
``BatchCreated``); ``BatchStoreProtocol`` is the public surface, for the service and for fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from enforcement.domain.audit import AuditEntry
from enforcement.kernel.audit import AuditLog
from enforcement.kernel.queries import Q
from enforcement.searches.store.searches import CaseForSearch, NewSearch


@dataclass(frozen=True, slots=True)
class NewBatch:
    id: UUID
    requested_by: str
    purpose: str
    court_code: str | None
    searches: Sequence[NewSearch]  # in submission order: batch_seq is the index


@dataclass(frozen=True, slots=True)
class BatchCreated:
    created_at: datetime
    queued_tasks: int
    reused_tasks: int
    completed_at_once: int  # searches answered entirely from stored answers


@dataclass(frozen=True, slots=True)
class BatchRow:
    """One subject of a bulk search, as the results page shows it."""

    seq: int
    search_id: UUID
    case_id: int
    case_number: str
    subject_kind: str
    subject_id_number: str
    subject_name: str
    status: str
    created_at: datetime
    completed_at: datetime | None
    agencies: list[dict[str, Any]]

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> BatchRow:
        return cls(
            seq=row["batch_seq"], search_id=row["id"], case_id=row["case_id"], case_number=row["case_number"],
            subject_kind=row["subject_kind"], subject_id_number=row["subject_id_number"],
            subject_name=row["subject_name"], status=row["status"], created_at=row["created_at"],
            completed_at=row["completed_at"], agencies=list(row["agencies"] or []),
        )


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """One stored bulk search."""

    id: UUID
    requested_by: str
    purpose: str
    total: int
    court_code: str | None
    force_fresh: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> BatchRecord:
        return cls(id=row["id"], requested_by=row["requested_by"], purpose=row["purpose"], total=int(row["total"]),
                   court_code=row["court_code"], force_fresh=bool(row["force_fresh"]), created_at=row["created_at"])


@dataclass(frozen=True, slots=True)
class BatchCounts:
    """How many searches of a batch there are, how many completed, and when the last one did."""

    total: int
    completed: int
    last_completed_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> BatchCounts:
        return cls(int(row["total"]), int(row["completed"]), row["last_completed_at"])


class BatchStoreProtocol(Protocol):
    """The public surface of ``BatchStore`` (what ``BatchService`` uses)."""

    @property
    def audited(self) -> bool: ...
    async def cases(self, case_ids: Sequence[int]) -> dict[int, CaseForSearch]: ...
    async def debtor_rows(self, rows: Sequence[tuple[int, int, str, str]]) -> set[int]: ...
    async def next_document_serial(self, court_code: str) -> tuple[int, int]: ...
    async def create(self, batch: NewBatch, *, audit_entries: Sequence[AuditEntry] = ()) -> BatchCreated: ...
    async def record_refusals(self, entries: Sequence[AuditEntry]) -> None: ...
    async def get(self, batch_id: UUID) -> BatchRecord | None: ...
    async def search_counts(self, batch_id: UUID) -> BatchCounts: ...
    async def task_counts(self, batch_id: UUID) -> dict[str, dict[str, int]]: ...
    async def results(self, batch_id: UUID, offset: int, limit: int) -> list[BatchRow]: ...


class BatchStore:
    def __init__(self, pool: asyncpg.Pool, audit: AuditLog | None = None) -> None:
        self.pool = pool
        self.audit = audit

    @property
    def audited(self) -> bool:
        """Whether the store writes audit records (it was given the audit log)."""
        return self.audit is not None

    async def cases(self, case_ids: Sequence[int]) -> dict[int, CaseForSearch]:
        """The cases named, by id, with their judge's name and officer id (missing ones absent)."""
        rows = await self.pool.fetch(Q.batch_cases, list(set(case_ids)))
        return {int(r["id"]): CaseForSearch.from_row(r) for r in rows}

    async def debtor_rows(self, rows: Sequence[tuple[int, int, str, str]]) -> set[int]:
        """Of (row, case id, kind, id number), the rows whose subject is a debtor of the case."""
        if not rows:
            return set()
        found = await self.pool.fetch(
            Q.batch_debtors, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]
        )
        return {r["i"] for r in found}

    async def next_document_serial(self, court_code: str) -> tuple[int, int]:
        """The court's year (Beijing time) and its next 协助查询通知书 serial in it."""
        row = await self.pool.fetchrow(Q.next_document_serial, court_code)
        assert row is not None  # an INSERT ... ON CONFLICT DO UPDATE returns its row
        return int(row["year"]), int(row["last"])

    async def create(self, batch: NewBatch, *, audit_entries: Sequence[AuditEntry] = ()) -> BatchCreated:
        """The batch, its searches, their tasks, and the audit records, in ONE
        transaction: the batch exists whole or not at all."""
        plans: dict[tuple[str, str], tuple[float, float]] = {}
        for s in batch.searches:
            for p in s.agencies:
                plans[(p.agency, s.subject_kind)] = (p.deadline_seconds, p.freshness_hours)
        ss = batch.searches
        ids = [s.id for s in ss]
        async with self.pool.acquire() as conn, conn.transaction():
            created_at = await conn.fetchval(
                Q.insert_search_batch, batch.id, batch.requested_by, batch.purpose, len(ss), batch.court_code,
                any(s.force_fresh for s in ss),
            )
            await conn.execute(
                Q.insert_batch_searches,
                batch.id, ids, list(range(len(ss))), [s.case_id for s in ss], [s.subject_kind for s in ss],
                [s.subject_id_number for s in ss], [s.subject_name for s in ss], [s.subject_key for s in ss],
                [s.purpose for s in ss], batch.requested_by, [s.force_fresh for s in ss],
                [s.request_no for s in ss], [s.case_number for s in ss], [s.court_code for s in ss],
                [s.judge_name for s in ss], [s.judge_officer_id for s in ss], [s.document_number for s in ss],
                [s.date_from for s in ss], [s.date_to for s in ss],
            )
            keys = sorted(plans)
            per_search = await conn.fetch(
                Q.insert_batch_tasks, ids, [k[0] for k in keys], [k[1] for k in keys],
                [plans[k][0] for k in keys], [plans[k][1] for k in keys],
            )
            queued = sum(r["queued"] for r in per_search)
            reused = sum(r["reused"] for r in per_search)
            answered = [r["search_id"] for r in per_search if r["queued"] == 0]
            done = await conn.fetch(Q.finish_searches, answered) if answered else []
            if queued:
                agencies = sorted({k[0] for k in keys})
                await conn.execute(Q.notify_tasks, ",".join(agencies))
            if done:  # the only events a batch writes at once: the completions (decision 1930)
                await conn.execute(Q.notify_search_events)
            if self.audit is not None and audit_entries:
                # One statement; chained after commit (decision 0404).
                await self.audit.append_many(conn, audit_entries)
        return BatchCreated(created_at, queued, reused, len(done))

    async def record_refusals(self, entries: Sequence[AuditEntry]) -> None:
        """The refusal records of a refused batch, in one statement (its own transaction); nothing
        when the store has no audit log."""
        if self.audit is None or not entries:
            return
        async with self.pool.acquire() as conn:
            await self.audit.append_many(conn, entries)

    async def get(self, batch_id: UUID) -> BatchRecord | None:
        row = await self.pool.fetchrow(Q.get_search_batch, batch_id)
        return None if row is None else BatchRecord.from_row(row)

    async def search_counts(self, batch_id: UUID) -> BatchCounts:
        row = await self.pool.fetchrow(Q.batch_search_counts, batch_id)
        assert row is not None
        return BatchCounts.from_row(row)

    async def task_counts(self, batch_id: UUID) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for r in await self.pool.fetch(Q.batch_task_counts, batch_id):
            out.setdefault(r["agency"], {})[r["status"]] = r["n"]
        return out

    async def results(self, batch_id: UUID, offset: int, limit: int) -> list[BatchRow]:
        return [BatchRow.from_row(r) for r in await self.pool.fetch(Q.batch_results, batch_id, offset, limit)]


__all__ = ["BatchCounts", "BatchCreated", "BatchRecord", "BatchRow", "BatchStore", "BatchStoreProtocol", "NewBatch"]
