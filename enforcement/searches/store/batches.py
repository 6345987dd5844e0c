"""Bulk searches: up to ten thousand searches stored in one transaction, set-based (a handful
of statements whatever the size), read back as progress and pages of per-subject results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from enforcement.domain.audit import AuditEntry
from enforcement.kernel.audit import AuditLog
from enforcement.kernel.queries import Q
from enforcement.searches.store.searches import NewSearch


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


class BatchStore:
    def __init__(self, pool: asyncpg.Pool, audit: AuditLog | None = None) -> None:
        self.pool = pool
        self.audit = audit

    async def cases(self, case_ids: Sequence[int]) -> dict[int, asyncpg.Record]:
        rows = await self.pool.fetch(Q.batch_cases, list(set(case_ids)))
        return {r["id"]: r for r in rows}

    async def debtor_rows(self, rows: Sequence[tuple[int, int, str, str]]) -> set[int]:
        """Of (row, case id, kind, id number), the rows whose subject is a debtor of the case."""
        if not rows:
            return set()
        found = await self.pool.fetch(
            Q.batch_debtors, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]
        )
        return {r["i"] for r in found}

    async def next_document_serial(self, court_code: str) -> int:
        return int(await self.pool.fetchval(Q.next_document_serial, court_code))

    async def create(self, batch: NewBatch, *, audit_entries: Sequence[AuditEntry] = ()) -> BatchCreated:
        """The batch, its searches, their tasks and first events, and the audit records, in ONE
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
            await conn.execute(Q.notify_search_events)
            if self.audit is not None and audit_entries:
                # One statement; chained after commit (decision 0404).
                await self.audit.append_many(conn, audit_entries)
        return BatchCreated(created_at, queued, reused, len(done))

    async def get(self, batch_id: UUID) -> asyncpg.Record | None:
        return await self.pool.fetchrow(Q.get_search_batch, batch_id)

    async def search_counts(self, batch_id: UUID) -> asyncpg.Record:
        row = await self.pool.fetchrow(Q.batch_search_counts, batch_id)
        assert row is not None
        return row

    async def task_counts(self, batch_id: UUID) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for r in await self.pool.fetch(Q.batch_task_counts, batch_id):
            out.setdefault(r["agency"], {})[r["status"]] = r["n"]
        return out

    async def results(self, batch_id: UUID, offset: int, limit: int) -> list[BatchRow]:
        return [BatchRow.from_row(r) for r in await self.pool.fetch(Q.batch_results, batch_id, offset, limit)]


__all__ = ["BatchCreated", "BatchRow", "BatchStore", "NewBatch"]
