"""The durable task queue: claim due agency tasks, and record what became of them.

Only this module (and its SQL) touches ``agency_task``. Claims are batched and exclusive
(``FOR UPDATE SKIP LOCKED``) under a lease; completions are flushed in batches, each batch one
transaction that stores answers, records, events and finished searches together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from enforcement.kernel import metrics
from enforcement.kernel.queries import Q


def _observe_completed(rows: Sequence[asyncpg.Record]) -> list[UUID]:
    """The searches a statement completed; their durations go to the search-duration histogram."""
    for r in rows:
        if r["duration_seconds"] is not None:
            metrics.SEARCH_DURATION.observe(r["duration_seconds"])
    return [r["search_id"] for r in rows]

TERMINAL = frozenset({"succeeded", "rejected", "failed", "expired"})
CONFLICT_RETRIES = 5


@dataclass(frozen=True, slots=True)
class ClaimedTask:
    id: int
    search_id: UUID
    agency: str
    idempotency_key: str
    ticket: str | None
    attempts: int
    deadline_at: datetime
    subject_kind: str
    subject_id_number: str
    subject_name: str
    purpose: str
    request_no: str
    case_number: str
    court_code: str
    judge_name: str
    judge_officer_id: str
    document_number: str
    date_from: date | None
    date_to: date | None
    last_error: str | None  # the error of its previous attempt, if it failed
    # its search's created_at (made in its transaction): the partition it lies in, which every
    # statement naming the task by id passes on so that only that partition is read (migration 0025)
    created_at: datetime | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> ClaimedTask:
        # one constructor call a row, its columns read by name in C (issue 19: ``fields()`` and a
        # dict of 21 items per claimed task were a third of the claim's Python calls)
        return cls(*map(row.__getitem__, _CLAIMED_FIELDS))


_CLAIMED_FIELDS = tuple(f.name for f in fields(ClaimedTask))


@dataclass(frozen=True, slots=True)
class Success:
    task_id: int
    raw: Any
    answered_at: datetime
    agency_reference: str | None
    records: Sequence[tuple[str, str, dict[str, Any]]]  # (kind, natural key, data)
    created_at: datetime | None = None  # the task's (ClaimedTask.created_at): its partition


@dataclass(frozen=True, slots=True)
class Settlement:
    """Any outcome but success: waiting (ticket), retry (later), rejected, failed, expired."""

    task_id: int
    outcome: str
    ticket: str | None = None
    delay_seconds: float = 0.0
    error_code: str | None = None
    error_message: str | None = None
    created_at: datetime | None = None  # the task's (ClaimedTask.created_at): its partition


def flush_arguments(
    successes: Sequence[Success], settlements: Sequence[Settlement], worker_id: str | None
) -> tuple[Any, ...]:
    """The parameters of ``flush_outcomes_packed``, as the store sends them (the partition
    benchmark explains the same): the answers and their records as one jsonb document, which the
    pool's codec encodes in one call and the statement unpacks (issue 19); the times stay typed
    arrays."""
    return (
        worker_id,
        [(s.task_id, s.raw, s.agency_reference, s.records) for s in successes],
        [s.answered_at for s in successes],
        [s.created_at for s in successes],
        [s.task_id for s in settlements],
        [s.outcome for s in settlements],
        [s.ticket for s in settlements],
        [s.delay_seconds for s in settlements],
        [s.error_code for s in settlements],
        [s.error_message for s in settlements],
        [s.created_at for s in settlements],
    )


def one_outcome_per_task(
    successes: Sequence[Success], settlements: Sequence[Settlement]
) -> tuple[list[Success], list[Settlement]]:
    """At most one outcome per task, the latest, an answer before anything else. A task can be
    run twice by one worker when the database lost the claim that leased it (a crash with
    asynchronous commit): both outcomes may then wait in the same flush."""
    answered = {s.task_id: s for s in successes}
    rest = {s.task_id: s for s in settlements if s.task_id not in answered}
    return list(answered.values()), list(rest.values())


@dataclass(frozen=True, slots=True)
class ClaimWant:
    """What one agency's share of a ``claim_many`` may be: ``limit`` tasks at most for this
    worker, ``agency_limit`` calls in flight across every worker, ``half_open_calls`` while the
    shared breaker is half-open."""

    agency: str
    limit: int
    agency_limit: int
    half_open_calls: int = 1


@dataclass(frozen=True, slots=True)
class TicketedTask:
    """The task holding an agency's ticket."""

    id: int
    search_id: UUID
    status: str
    created_at: datetime | None = None


class TaskStoreProtocol(Protocol):
    """The public surface of ``TaskStore`` (what the dispatcher, the callbacks and the agency view
    use), for their types and for in-memory fakes."""

    async def claim(self, agency: str, worker_id: str, limit: int, lease_seconds: float, agency_limit: int, *,
                    which: str = "any", call_group: UUID | None = None,
                    half_open_calls: int = 1) -> list[ClaimedTask]: ...
    async def claim_many(self, wants: Sequence[ClaimWant], worker_id: str, lease_seconds: float,
                         total: int) -> list[ClaimedTask]: ...
    async def oldest_due(self, agency: str, up_to: int = 10_000) -> tuple[float, int]: ...
    async def flush(self, successes: Sequence[Success], settlements: Sequence[Settlement], *,
                    worker_id: str | None) -> list[UUID]: ...
    async def expire_overdue(self, limit: int = 1000) -> list[UUID]: ...
    async def release_forgotten(self, worker_id: str, held: Sequence[int], older_than_seconds: float) -> int: ...
    async def counts_by_agency(self) -> dict[str, dict[str, tuple[int, float]]]: ...


class TaskStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def claim(
        self,
        agency: str,
        worker_id: str,
        limit: int,
        lease_seconds: float,
        agency_limit: int,
        *,
        which: str = "any",
        call_group: UUID | None = None,
        half_open_calls: int = 1,
    ) -> list[ClaimedTask]:
        """Claim up to ``limit`` due tasks of ``agency``, keeping the agency's calls in flight
        (across every worker) within ``agency_limit``: one call per task, or one call for all
        of them when they share a ``call_group`` (a batch). ``which``: 'any', 'polls' (tasks
        holding a ticket) or 'fresh' (not yet sent). Nothing while the shared breaker is open;
        ``half_open_calls`` at most while it is half-open."""
        if limit <= 0:
            return []
        rows = await self.pool.fetch(  # one round trip: the lock, then the claim (migration 0020)
            Q.claim_tasks, agency, worker_id, limit, lease_seconds, agency_limit, which, call_group, half_open_calls,
        )
        return [ClaimedTask.from_row(r) for r in rows]

    async def claim_many(
        self,
        wants: Sequence[ClaimWant],
        worker_id: str,
        lease_seconds: float,
        total: int,
    ) -> list[ClaimedTask]:
        """``claim`` for several agencies in one statement, its own transaction (one round trip;
        one call per task): each agency's limits hold as in ``claim``, and ``total`` tasks at
        most are taken in all, the earliest due first."""
        wants = [w for w in wants if w.limit > 0]
        if not wants or total <= 0:
            return []
        rows = await self.pool.fetch(
            Q.claim_tasks_many, [w.agency for w in wants], worker_id, [w.limit for w in wants], lease_seconds,
            [w.agency_limit for w in wants], [w.half_open_calls for w in wants], total,
        )
        return [ClaimedTask.from_row(r) for r in rows]

    async def oldest_due(self, agency: str, up_to: int = 10_000) -> tuple[float, int]:
        """How long the oldest subject not yet sent has waited, and how many wait (counted up to
        ``up_to``: enough to tell whether a batch is full)."""
        row = await self.pool.fetchrow(Q.oldest_due_task, agency, up_to)
        assert row is not None
        return float(row["age"] or 0.0), int(row["n"])

    async def flush(
        self,
        successes: Sequence[Success],
        settlements: Sequence[Settlement],
        *,
        worker_id: str | None,
    ) -> list[UUID]:
        """Record outcomes in one transaction; return the searches that completed with them.

        Outcomes for tasks this worker no longer holds (its lease was lost) are ignored. A
        transaction that loses a deadlock or serialization conflict to another writer (a
        callback and a worker finishing tasks of the same searches) is simply run again.
        """
        successes, settlements = one_outcome_per_task(successes, settlements)
        successes, settlements = await self._with_created_at(successes, settlements)
        for attempt in range(CONFLICT_RETRIES):
            try:
                return await self._flush_once(successes, settlements, worker_id)
            except asyncpg.exceptions.TransactionRollbackError:
                if attempt + 1 == CONFLICT_RETRIES:
                    raise
                await asyncio.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _with_created_at(
        self, successes: list[Success], settlements: list[Settlement]
    ) -> tuple[list[Success], list[Settlement]]:
        """Every outcome with its task's created_at (the flush reads only those partitions). The
        dispatcher and the callbacks carry it from the claim or the ticket lookup; an outcome
        without it (a caller that has only the id) costs one lookup by id in every partition."""
        missing = [s.task_id for s in successes if s.created_at is None]
        missing += [s.task_id for s in settlements if s.created_at is None]
        if not missing:
            return successes, settlements
        times = {r["id"]: r["created_at"] for r in await self.pool.fetch(Q.task_created_at, missing)}
        return ([s if s.created_at is not None else replace(s, created_at=times.get(s.task_id)) for s in successes],
                [s if s.created_at is not None else replace(s, created_at=times.get(s.task_id)) for s in settlements])

    async def _flush_once(
        self, successes: Sequence[Success], settlements: Sequence[Settlement], worker_id: str | None
    ) -> list[UUID]:
        """One statement, its own transaction (``flush_outcomes``, migration 0010, called through
        ``flush_outcomes_packed``): the answers and their records, the other outcomes, then the
        searches they finish, locked in key order so that whichever of two concurrent flushes
        commits last sees every task of a search."""
        rows = await self.pool.fetch(Q.flush_outcomes_packed, *flush_arguments(successes, settlements, worker_id))
        return _observe_completed(rows)

    async def expire_overdue(self, limit: int = 1000) -> list[UUID]:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(Q.expire_overdue_tasks, limit)
            ids = [r["search_id"] for r in rows]
            completed: list[UUID] = []
            if ids:
                completed = _observe_completed(await conn.fetch(Q.finish_searches, ids))
        return completed

    async def release_forgotten(self, worker_id: str, held: Sequence[int], older_than_seconds: float) -> int:
        """Put back in the queue the tasks leased to ``worker_id`` that it does not hold (leased
        more than ``older_than_seconds`` ago, so a claim still on its way is not touched)."""
        rows = await self.pool.fetch(Q.release_forgotten_leases, worker_id, list(held), older_than_seconds)
        return len(rows)

    async def find_by_ticket(self, agency: str, ticket: str) -> TicketedTask | None:
        row = await self.pool.fetchrow(Q.find_task_by_ticket, agency, ticket)
        return None if row is None else TicketedTask(int(row["id"]), row["search_id"], row["status"], row["created_at"])

    async def counts_by_agency(self) -> dict[str, dict[str, tuple[int, float]]]:
        out: dict[str, dict[str, tuple[int, float]]] = {}
        for r in await self.pool.fetch(Q.task_counts_by_agency):
            out.setdefault(r["agency"], {})[r["status"]] = (int(r["n"]), float(r["oldest_age"] or 0))
        return out


__all__ = [
    "TERMINAL",
    "ClaimWant",
    "ClaimedTask",
    "Settlement",
    "Success",
    "TaskStore",
    "TaskStoreProtocol",
    "TicketedTask",
    "one_outcome_per_task",
]
