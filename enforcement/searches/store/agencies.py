"""What dispatchers share about each agency, beyond the task queue: the circuit breaker, who is
alive (to share the agency's request rate), each worker's recent calls (for
``GET /api/v1/agencies``), and the nonces of signed callbacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg

from enforcement.kernel.queries import Q


@dataclass(frozen=True, slots=True)
class SharedBreaker:
    agency: str
    state: str  # closed | open (open with remaining <= 0 is half-open)
    remaining_seconds: float
    opened_at: datetime | None
    open_until: datetime | None
    opened_by: str | None
    reason: str | None

    @property
    def view_state(self) -> str:
        if self.state == "open":
            return "open" if self.remaining_seconds > 0 else "half_open"
        return "closed"

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> SharedBreaker:
        return cls(
            agency=row["agency"],
            state=row["state"],
            remaining_seconds=float(row["remaining"] or 0.0),
            opened_at=row["opened_at"],
            open_until=row["open_until"],
            opened_by=row["opened_by"],
            reason=row["reason"],
        )


@dataclass(frozen=True, slots=True)
class Liveness:
    """A dispatcher's heartbeat answer: the live dispatchers (itself included) and its rank among
    them, by worker id (0 .. live - 1), which shares the submissions' wake-ups among them."""
    live: int
    rank: int


@dataclass(frozen=True, slots=True)
class WorkerAgencyStats:
    """One worker's recent view of one agency."""

    agency: str
    calls: int
    failures: int
    p50_seconds: float | None
    p95_seconds: float | None
    in_flight: int
    auth_failed: bool
    last_error: str | None
    last_call_at: datetime | None


@dataclass(frozen=True, slots=True)
class AgencyCallStats:
    """Every live worker's recent calls to one agency, together."""

    agency: str
    workers: int
    calls: int
    failures: int
    p50_seconds: float | None
    p95_seconds: float | None
    in_flight: int
    auth_failed: bool
    last_error: str | None
    last_call_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> AgencyCallStats:
        return cls(
            agency=row["agency"],
            workers=int(row["workers"]),
            calls=int(row["calls"] or 0),
            failures=int(row["failures"] or 0),
            p50_seconds=row["p50_seconds"],
            p95_seconds=row["p95_seconds"],
            in_flight=int(row["in_flight"] or 0),
            auth_failed=bool(row["auth_failed"]),
            last_error=row["last_error"],
            last_call_at=row["last_call_at"],
        )


@dataclass(frozen=True, slots=True)
class TicketHolder:
    task_id: int
    agency: str
    ticket: str
    status: str
    created_at: datetime | None = None  # the task's: its partition (migration 0025)


@dataclass(frozen=True, slots=True)
class CallbackCounts:
    """One agency's signed callbacks in a window (``agency_callback_minute``): accepted, refused,
    and the last one (its time, result and, for a refusal, its reason code)."""

    agency: str
    accepted: int
    refused: int
    last_at: datetime | None
    last_result: str | None
    last_reason: str | None


class AgencyStoreProtocol(Protocol):
    """The public surface of ``AgencyStore`` (what the coordinator, the callbacks and the agency
    view use), for their types and for in-memory fakes."""

    async def ensure_breakers(self, agencies: Sequence[str]) -> None: ...
    async def open_breaker(self, agency: str, open_seconds: float, worker_id: str,
                           reason: str | None) -> tuple[str, bool]: ...
    async def close_breaker(self, agency: str) -> bool: ...
    async def breakers(self) -> dict[str, SharedBreaker]: ...
    async def beat(self, worker_id: str, liveness_seconds: float) -> Liveness: ...
    async def forget(self, worker_id: str) -> None: ...
    async def live_dispatchers(self, liveness_seconds: float) -> int: ...
    async def write_stats(self, worker_id: str, stats: Sequence[WorkerAgencyStats]) -> None: ...
    async def call_stats(self, freshness_seconds: float) -> dict[str, AgencyCallStats]: ...
    async def purge(self, keep_seconds: float = 3600.0) -> None: ...
    async def remember_nonce(self, agency: str, nonce: str, remember_seconds: float) -> bool: ...
    async def ticket_holders(self, tickets: Sequence[str]) -> list[TicketHolder]: ...
    async def count_callback(self, agency: str, *, refused_reason: str | None) -> None: ...
    async def callback_counts(self, window_seconds: float) -> dict[str, CallbackCounts]: ...


class AgencyStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    # -- shared circuit breakers -------------------------------------------------------------

    async def ensure_breakers(self, agencies: Sequence[str]) -> None:
        await self.pool.execute(Q.ensure_agency_breakers, list(agencies))

    async def open_breaker(
        self, agency: str, open_seconds: float, worker_id: str, reason: str | None
    ) -> tuple[str, bool]:
        """Open (or re-open when half-open); returns (previous state, whether it changed)."""
        row = await self.pool.fetchrow(Q.open_agency_breaker, agency, open_seconds, worker_id, reason)
        if row is None:  # no row yet: create it and try once more
            await self.ensure_breakers([agency])
            row = await self.pool.fetchrow(Q.open_agency_breaker, agency, open_seconds, worker_id, reason)
        assert row is not None
        return str(row["previous"]), bool(row["changed"])

    async def close_breaker(self, agency: str) -> bool:
        return await self.pool.fetchval(Q.close_agency_breaker, agency) is not None

    async def breakers(self) -> dict[str, SharedBreaker]:
        return {r["agency"]: SharedBreaker.from_row(r) for r in await self.pool.fetch(Q.read_agency_breakers)}

    # -- liveness and recent calls -------------------------------------------------------------

    async def beat(self, worker_id: str, liveness_seconds: float) -> Liveness:
        """Record this dispatcher alive; returns the live dispatchers, itself included, and its rank."""
        row = await self.pool.fetchrow(Q.beat_dispatcher, worker_id, liveness_seconds)
        assert row is not None  # an aggregate: always one row
        return Liveness(int(row["live"]), int(row["rank"]))

    async def forget(self, worker_id: str) -> None:
        await self.pool.execute(Q.forget_dispatcher, worker_id)

    async def live_dispatchers(self, liveness_seconds: float) -> int:
        return int(await self.pool.fetchval(Q.live_dispatchers, liveness_seconds))

    async def write_stats(self, worker_id: str, stats: Sequence[WorkerAgencyStats]) -> None:
        if not stats:
            return
        await self.pool.execute(
            Q.write_agency_worker_stats,
            worker_id,
            [s.agency for s in stats],
            [s.calls for s in stats],
            [s.failures for s in stats],
            [s.p50_seconds for s in stats],
            [s.p95_seconds for s in stats],
            [s.in_flight for s in stats],
            [s.auth_failed for s in stats],
            [s.last_error for s in stats],
            [s.last_call_at for s in stats],
        )

    async def call_stats(self, freshness_seconds: float) -> dict[str, AgencyCallStats]:
        rows = await self.pool.fetch(Q.agency_call_stats, freshness_seconds)
        return {r["agency"]: AgencyCallStats.from_row(r) for r in rows}

    async def purge(self, keep_seconds: float = 3600.0) -> None:
        await self.pool.execute(Q.purge_agency_housekeeping, keep_seconds)

    # -- callbacks -------------------------------------------------------------------------------

    async def remember_nonce(self, agency: str, nonce: str, remember_seconds: float) -> bool:
        """True when the nonce is new; False when the agency used it before (a replay)."""
        return await self.pool.fetchval(Q.remember_callback_nonce, agency, nonce, remember_seconds) is not None

    async def ticket_holders(self, tickets: Sequence[str]) -> list[TicketHolder]:
        rows = await self.pool.fetch(Q.find_tasks_by_tickets, list(tickets))
        return [TicketHolder(r["id"], r["agency"], r["ticket"], r["status"], r["created_at"]) for r in rows]

    async def count_callback(self, agency: str, *, refused_reason: str | None) -> None:
        """Count one callback of ``agency`` in this minute's row: accepted when ``refused_reason``
        is None, else refused for that reason. Shared by every process (PostgreSQL)."""
        await self.pool.execute(Q.count_callback, agency, refused_reason is None, refused_reason)

    async def callback_counts(self, window_seconds: float) -> dict[str, CallbackCounts]:
        rows = await self.pool.fetch(Q.callback_counts, window_seconds)
        return {r["agency"]: CallbackCounts(r["agency"], int(r["accepted"]), int(r["refused"]), r["last_at"],
                                            r["last_result"], r["last_reason"]) for r in rows}


__all__ = [
    "AgencyCallStats",
    "AgencyStore",
    "AgencyStoreProtocol",
    "CallbackCounts",
    "Liveness",
    "SharedBreaker",
    "TicketHolder",
    "WorkerAgencyStats",
]
