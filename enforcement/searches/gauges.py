"""Keep the gauges that describe shared state fresh: queue depth and the age of the oldest due
task per agency, deferred answers outstanding and overdue, searches running, this process's
database pool, how long the oldest audit record has waited for its place in the chain, and (much
less often) whether the audit hash chain is intact.

Counters are incremented where things happen; these figures are states of the database, so a
refresher reads them every ``interval_seconds`` (``METRICS_REFRESH_SECONDS``). Every API process
refreshes the database-wide gauges (dashboards and alerts take the ``max`` across processes);
worker processes refresh only their own pool gauges. Extra sources (a feature's own
database-wide gauges) can be added with ``add_source``: each is an async callable run on the
same tick, whose failure is counted and logged without stopping the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

import structlog

from enforcement.kernel import metrics
from enforcement.kernel.pool import PoolLike, observe_pool
from enforcement.searches.store.gauges import AgencyQueue, GaugeStore, QueueSnapshot

log = structlog.get_logger(__name__)

Source = Callable[[], Awaitable[None]]


def publish(snapshot: QueueSnapshot, agencies: Iterable[str]) -> None:
    """Set the database-wide gauges; agencies with nothing queued read 0, not stale values."""
    names = set(agencies) | set(snapshot.agencies)
    for name in sorted(names):
        q = snapshot.agencies.get(name, AgencyQueue())
        metrics.QUEUE_DEPTH.labels(agency=name, state="queued").set(q.queued)
        metrics.QUEUE_DEPTH.labels(agency=name, state="running").set(q.running)
        metrics.QUEUE_DEPTH.labels(agency=name, state="waiting").set(q.waiting)
        metrics.QUEUE_OLDEST_AGE.labels(agency=name).set(q.oldest_due_age_seconds)
        metrics.DEFERRED_OUTSTANDING.labels(agency=name).set(q.deferred_outstanding)
        metrics.DEFERRED_OVERDUE.labels(agency=name).set(q.deferred_overdue)
    metrics.SEARCHES_RUNNING.set(snapshot.searches_running)


class GaugeRefresher:
    def __init__(
        self,
        store: GaugeStore,
        agencies: Iterable[str],
        *,
        interval_seconds: float = 15.0,
        database_wide: bool = True,
        pool: PoolLike | None = None,
    ) -> None:
        self.store = store
        self.interval_seconds = interval_seconds
        self.database_wide = database_wide
        self.pool = pool
        self._agencies = set(agencies)
        self._sources: list[tuple[str, Source]] = []
        self._failing: set[str] = set()

    def add_source(self, name: str, source: Source) -> None:
        """Run ``source`` on every tick too (a feature module's own database-wide gauges)."""
        self._sources.append((name, source))

    async def refresh(self) -> bool:
        """One tick; True when every part succeeded."""
        if self.pool is not None:
            observe_pool(self.pool)
        if not self.database_wide:
            return True
        parts: list[tuple[str, Source]] = [("queue", self._refresh_queue), *self._sources]
        ok = True
        for name, source in parts:
            try:
                await source()
            except Exception as exc:  # the database may be away; the next tick retries
                ok = False
                metrics.GAUGE_REFRESH_FAILURES.inc()
                if name not in self._failing:  # log once when it starts failing, once when back
                    log.warning("gauge_refresh_failed", source=name, error=type(exc).__name__)
                    self._failing.add(name)
                continue
            if name in self._failing:
                log.info("gauge_refresh_recovered", source=name)
                self._failing.discard(name)
        if ok:
            metrics.GAUGE_REFRESH_LAST_SUCCESS.set(time.time())
        return ok

    async def _refresh_queue(self) -> None:
        snapshot = await self.store.snapshot()
        self._agencies |= set(snapshot.agencies)
        publish(snapshot, self._agencies)

    async def run(self) -> None:
        """Refresh now and then every ``interval_seconds`` until cancelled."""
        while True:
            started = time.monotonic()
            await self.refresh()
            await asyncio.sleep(max(0.0, self.interval_seconds - (time.monotonic() - started)))


class ChainVerifier(Protocol):
    async def verify(self, conn: Any) -> Any: ...
    async def backlog(self, conn: Any) -> Any: ...


class AuditChainWatch:
    """Verify the whole audit hash chain every ``interval_seconds`` (``AUDIT_VERIFY_SECONDS``) and
    say so in ``enforcement_audit_chain_broken`` and ``..._last_verified_timestamp_seconds``, which
    the alert rules watch. The verification reads the chain in one snapshot, a cursor at a time;
    its cost grows with the chain, so the interval is long (an hour by default).

    ``observe_backlog`` (a gauge refresher's source, on every tick) sets
    ``enforcement_audit_unchained_oldest_age_seconds``: how long the oldest record written with
    its action has waited for its place in the chain (0 when none waits). The chainers keep it
    under a second; a minute means they stopped (decision 0404)."""

    def __init__(self, audit: ChainVerifier, pool: Any, *, interval_seconds: float = 3600.0) -> None:
        self.audit = audit
        self.pool = pool
        self.interval_seconds = interval_seconds

    async def check(self) -> bool:
        """One verification; True when the chain is intact and no record waits too long."""
        async with self.pool.acquire() as conn:
            result = await self.audit.verify(conn)
        metrics.AUDIT_CHAIN_BROKEN.set(0 if result.intact else 1)
        metrics.AUDIT_CHAIN_VERIFIED_AT.set(time.time())
        metrics.AUDIT_UNCHAINED_AGE.set(result.backlog.age_seconds)
        if not result.intact:
            log.error("audit_chain_broken", seq=result.broken.seq, reason=result.broken.reason,
                      detail=result.broken.detail, checked=result.checked)
        if result.stalled:
            log.error("audit_chain_stalled", detail=result.backlog.describe())
        return bool(result.ok)

    async def observe_backlog(self) -> None:
        async with self.pool.acquire() as conn:
            backlog = await self.audit.backlog(conn)
        metrics.AUDIT_UNCHAINED_AGE.set(backlog.age_seconds)

    async def run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception as exc:  # the database may be away; the next round retries
                log.warning("audit_chain_check_failed", error=type(exc).__name__)
            await asyncio.sleep(self.interval_seconds)


__all__ = ["AuditChainWatch", "GaugeRefresher", "observe_pool", "publish"]
