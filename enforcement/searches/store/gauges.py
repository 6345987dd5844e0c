"""Database-wide figures for the operations gauges: queue depth and age per agency, deferred
answers outstanding and overdue, searches running. Read-only, a few aggregate queries over
partial indexes; the refresher in ``enforcement.searches.gauges`` calls it periodically.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import asyncpg

from enforcement.kernel.queries import Q

QUERY_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class AgencyQueue:
    """One agency's share of the task queue."""

    queued: int = 0
    running: int = 0
    waiting: int = 0
    oldest_due_age_seconds: float = 0.0
    deferred_outstanding: int = 0
    deferred_overdue: int = 0


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    agencies: Mapping[str, AgencyQueue] = field(default_factory=dict)
    searches_running: int = 0


class GaugeStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def snapshot(self) -> QueueSnapshot:
        t = QUERY_TIMEOUT_SECONDS
        async with self.pool.acquire() as conn:
            waiting_rows = await conn.fetch(Q.queue_gauges, timeout=t)
            running_rows = await conn.fetch(Q.running_gauges, timeout=t)
            overdue_rows = await conn.fetch(Q.deferred_overdue_gauges, timeout=t)
            running_searches = await conn.fetchval(Q.searches_running_count, timeout=t)
        agencies: dict[str, AgencyQueue] = {}
        for r in waiting_rows:
            agencies[r["agency"]] = AgencyQueue(
                queued=int(r["queued"]),
                waiting=int(r["waiting"]),
                oldest_due_age_seconds=max(0.0, float(r["oldest_due_age"])),
                deferred_outstanding=int(r["deferred"]),
            )
        for r in running_rows:
            q = agencies.get(r["agency"], AgencyQueue())
            agencies[r["agency"]] = replace(
                q,
                running=int(r["running"]),
                oldest_due_age_seconds=max(q.oldest_due_age_seconds, float(r["oldest_lapsed_age"])),
            )
        for r in overdue_rows:
            q = agencies.get(r["agency"], AgencyQueue())
            agencies[r["agency"]] = replace(q, deferred_overdue=int(r["overdue"]))
        return QueueSnapshot(agencies=agencies, searches_running=int(running_searches or 0))


__all__ = ["AgencyQueue", "GaugeStore", "QueueSnapshot"]
