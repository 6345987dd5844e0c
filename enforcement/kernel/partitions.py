"""Monthly partitions of ``agency_task`` and ``search_event`` (migration 0021, decision 1901):
created ahead, listed, and dropped past retention.

* :func:`ensure_ahead` creates this month's and the next ``months_ahead`` months' partitions (SQL
  function ``ensure_month_partitions``: rows the default partition took for such a month move into
  it). Run after the migrations at every start-up, ``enforcement migrate`` and ``enforcement db
  partitions``, and every few hours by :class:`PartitionKeeper` in API processes.
* :func:`drop_expired` is retention: a month's partition is dropped (``DROP TABLE``, no ``DELETE``)
  only when it lies wholly before the retention cut-off (the first day of this month, UTC, minus
  ``TASK_RETENTION_MONTHS`` / ``EVENT_RETENTION_MONTHS``) and holds nothing unfinished: no task
  queued, running or waiting; no event of a search still running. The default partition is never
  dropped (rows there are listed so an operator sees them). Each drop takes the partition's lock
  first, then checks, then drops, in one transaction under a lock timeout, so it never waits
  behind the queue's traffic for long and nothing unfinished can slip in between.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

log = structlog.get_logger(__name__)

Conn = asyncpg.Connection | PoolConnectionProxy
PARTITIONED = ("agency_task", "search_event")
MONTHS_AHEAD = 3
_LOCK_KEY = 0x7061_7274  # "part"
_MONTH = re.compile(r"^(?P<table>agency_task|search_event)_p(?P<y>\d{4})(?P<m>\d{2})$")
# what makes a month's partition not droppable yet, per table (read through the partial indexes)
_UNFINISHED = {
    "agency_task": ("SELECT EXISTS (SELECT 1 FROM {p} WHERE status IN ('queued', 'waiting')) "
                    "OR EXISTS (SELECT 1 FROM {p} WHERE status = 'running')"),
    "search_event": ("SELECT EXISTS (SELECT 1 FROM search s WHERE s.status = 'running' "
                     "AND EXISTS (SELECT 1 FROM {p} e WHERE e.search_id = s.id))"),
}


@dataclass(frozen=True, slots=True)
class Partition:
    table: str
    name: str
    month: date | None  # None: the default partition
    rows: int


@dataclass(frozen=True, slots=True)
class RetentionResult:
    dropped: tuple[Partition, ...]
    kept: tuple[tuple[Partition, str], ...]  # expired by age but kept, and why


def add_months(d: date, n: int) -> date:
    """The first day of the month ``n`` months after ``d``'s (n may be negative)."""
    k = d.year * 12 + (d.month - 1) + n
    return date(k // 12, k % 12 + 1, 1)


def this_month(now: datetime | None = None) -> date:
    now = now or datetime.now(UTC)
    now = now.astimezone(UTC)
    return date(now.year, now.month, 1)


def cutoff(retention_months: int, now: datetime | None = None) -> date:
    """Partitions ending on or before this day are past retention: whole months only, so a
    partition is kept at least ``retention_months`` full months after its last row."""
    return add_months(this_month(now), -retention_months)


async def ensure_ahead(conn: Conn, months_ahead: int = MONTHS_AHEAD, *, now: datetime | None = None) -> list[str]:
    """Create the missing partitions from this month to ``months_ahead`` months on; their names."""
    first = this_month(now)
    last = add_months(first, months_ahead)
    created: list[str] = []
    async with conn.transaction():
        # one process at a time (several starting together would race for the same names)
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        for table in PARTITIONED:
            rows = await conn.fetch("SELECT * FROM ensure_month_partitions($1::regclass, $2, $3)", table, first, last)
            created += [r[0] for r in rows]
    if created:
        log.info("partitions_created", partitions=created)
    return created


async def list_partitions(conn: Conn) -> list[Partition]:
    """Every partition of the partitioned tables, by table and month (the default last), with its
    exact row count (a scan per partition: an operator's command, not a gauge)."""
    names = await conn.fetch(
        """SELECT p.relname AS parent, c.relname AS name
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
           WHERE p.relname = ANY($1::text[]) AND p.relnamespace = 'public'::regnamespace""",
        list(PARTITIONED),
    )
    out: list[Partition] = []
    for r in names:
        m = _MONTH.match(r["name"])
        month = date(int(m["y"]), int(m["m"]), 1) if m else None
        rows = await conn.fetchval(f'SELECT count(*) FROM "{r["name"]}"')
        out.append(Partition(r["parent"], r["name"], month, int(rows)))
    return sorted(out, key=lambda p: (p.table, p.month is None, p.month or date.min))


async def drop_expired(conn: Conn, *, task_months: int, event_months: int, now: datetime | None = None,
                       lock_timeout_ms: int = 5000,
                       record: Callable[[Conn, Partition], Awaitable[object]] | None = None) -> RetentionResult:
    """Drop every month's partition past its table's retention that holds nothing unfinished;
    ``record`` (the audit record of the drop) is written in the drop's own transaction, so a drop
    that is not recorded does not happen."""
    if task_months < 1 or event_months < 1:
        raise ValueError("retention is at least one month")
    limits = {"agency_task": cutoff(task_months, now), "search_event": cutoff(event_months, now)}
    dropped: list[Partition] = []
    kept: list[tuple[Partition, str]] = []
    for part in await list_partitions(conn):
        if part.month is None or add_months(part.month, 1) > limits[part.table]:
            continue
        try:
            async with conn.transaction():
                await conn.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
                await conn.execute(f'LOCK TABLE "{part.name}" IN ACCESS EXCLUSIVE MODE')
                if await conn.fetchval(_UNFINISHED[part.table].format(p=f'"{part.name}"')):
                    reason = ("unfinished tasks (queued, running or waiting)" if part.table == "agency_task"
                              else "events of a search still running")
                    kept.append((part, reason))
                    log.warning("partition_kept_unfinished", partition=part.name, reason=reason)
                    continue
                if part.table == "agency_task":
                    # the tickets of its tasks (unique per agency in agency_ticket) go with them
                    await conn.execute("DELETE FROM agency_ticket WHERE task_created_at >= $1 AND task_created_at < $2",
                                       _utc(part.month), _utc(add_months(part.month, 1)))
                if record is not None:
                    await record(conn, part)
                await conn.execute(f'DROP TABLE "{part.name}"')
        except asyncpg.LockNotAvailableError:
            kept.append((part, "busy (lock timeout): try again"))
            log.warning("partition_kept_busy", partition=part.name)
            continue
        dropped.append(part)
        log.info("partition_dropped", partition=part.name, table=part.table, month=part.month.isoformat(),
                 rows=part.rows)
    return RetentionResult(tuple(dropped), tuple(kept))


def _utc(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


class PartitionKeeper:
    """Creates the coming months' partitions every ``interval_seconds`` (API processes; every
    start-up does it too). Retention is not run here: dropping data is an operator's audited act
    (``enforcement db partitions --drop-expired``)."""

    def __init__(self, pool: asyncpg.Pool, *, interval_seconds: float = 6 * 3600.0,
                 months_ahead: int = MONTHS_AHEAD) -> None:
        self.pool = pool
        self.interval_seconds = interval_seconds
        self.months_ahead = months_ahead

    async def run(self) -> None:
        while True:
            try:
                async with self.pool.acquire() as conn:
                    await ensure_ahead(conn, self.months_ahead)
            except (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
                    asyncpg.InterfaceError) as exc:
                log.warning("partitions_database_away", error=str(exc))
            except asyncpg.PostgresError as exc:
                log.error("partitions_not_created", error=str(exc))
            await asyncio.sleep(self.interval_seconds)


__all__ = [
    "MONTHS_AHEAD", "PARTITIONED", "Partition", "PartitionKeeper", "RetentionResult", "add_months", "cutoff",
    "drop_expired", "ensure_ahead", "list_partitions", "this_month",
]
