"""What a dispatcher shares with the others through PostgreSQL, every heartbeat:

- it is alive (``dispatcher_heartbeat``), and each agency's request rate is divided among the
  live dispatchers, so the agency sees its rate however many workers run;
- its circuit breakers' own transitions are published (``agency_breaker``), and the states
  others published are adopted: when one worker finds an agency down, every worker stops
  calling it; the transition that really changes the shared state is logged, once
  (``agency_down`` / ``agency_recovered``), whichever worker makes it;
- its recent calls to each agency (latency, failures, auth trouble) are written for
  ``GET /api/v1/agencies``.

docs/decisions/0301-shared-breaker-and-rate.md says why and what it costs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import structlog

from enforcement.kernel import metrics
from enforcement.kernel.db_errors import is_database_unavailable
from enforcement.kernel.waits import wait_set
from enforcement.searches.policy import BreakerState
from enforcement.searches.runtime import AgencyRuntime
from enforcement.searches.store.agencies import AgencyStoreProtocol, WorkerAgencyStats

log = structlog.get_logger(__name__)

LIVENESS_BEATS = 3.0  # a dispatcher silent for this many heartbeats is taken for dead
PURGE_EVERY_SECONDS = 60.0


class Coordinator:
    def __init__(
        self,
        store: AgencyStoreProtocol,
        runtimes: Mapping[str, AgencyRuntime],
        worker_id: str,
        *,
        heartbeat_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self.runtimes = runtimes
        self.worker_id = worker_id
        self.heartbeat_seconds = heartbeat_seconds
        self.live_workers = 1
        self.rank = 0  # among the live dispatchers, by worker id: which submissions' wake-ups are ours
        self._wake = asyncio.Event()
        self._last_purge = 0.0
        self._failing = False
        for rt in runtimes.values():
            rt.breaker.on_transition = self._wake.set

    @property
    def liveness_seconds(self) -> float:
        """How long a silent dispatcher still counts as alive."""
        return max(self.heartbeat_seconds * LIVENESS_BEATS, 2.0)

    async def start(self) -> None:
        """Before the first claim: breaker rows exist, this worker counts, rates are shared."""
        try:
            await self.store.ensure_breakers(list(self.runtimes))
            await self.sync()
        except Exception as exc:
            self._report(exc)

    async def run(self) -> None:
        """Sync every heartbeat (sooner when a breaker changes) until cancelled; a database away is
        logged once and retried, never raised."""
        while True:
            await wait_set(self._wake, self.heartbeat_seconds)
            self._wake.clear()
            try:
                await self.sync()
                if self._failing:
                    log.info("coordination_restored", worker_id=self.worker_id)
                    self._failing = False
            except Exception as exc:
                self._report(exc)

    async def stop(self) -> None:
        """A clean stop leaves the live count at once (a killed worker ages out)."""
        try:
            await self.publish()
            await self.store.forget(self.worker_id)
        except Exception as exc:
            log.warning("coordination_stop_failed", error=type(exc).__name__)

    def _report(self, exc: Exception) -> None:
        if not is_database_unavailable(exc):
            log.error("coordination_failed", error=type(exc).__name__, exc_info=True)
        elif not self._failing:
            log.warning("coordination_unavailable", error=type(exc).__name__)
        self._failing = True

    async def sync(self) -> None:
        """One heartbeat: publish our breaker transitions, count the live workers and share the
        rates, adopt the shared breakers, write our recent calls, purge now and then. Raises what the
        store raises (``run`` and ``start`` report it)."""
        await self.publish()
        liveness = await self.store.beat(self.worker_id, self.liveness_seconds)
        self.live_workers, self.rank = liveness.live, liveness.rank
        metrics.LIVE_DISPATCHERS.set(self.live_workers)
        for rt in self.runtimes.values():
            rt.limiter.set_rate(rt.manifest.policy.rate_per_second / self.live_workers)
        await self.adopt()
        await self.store.write_stats(self.worker_id, [self._stats(rt) for rt in self.runtimes.values()])
        now = time.monotonic()
        if now - self._last_purge >= PURGE_EVERY_SECONDS:
            self._last_purge = now
            await self.store.purge()

    async def publish(self) -> None:
        """Write this worker's own breaker transitions; log the ones that change the shared state."""
        for rt in self.runtimes.values():
            while rt.breaker.pending:
                _before, after = rt.breaker.pending[0]
                policy = rt.manifest.policy.breaker
                if after is BreakerState.OPEN:
                    previous, changed = await self.store.open_breaker(
                        rt.name, policy.open_seconds, self.worker_id, rt.last_error
                    )
                    if changed and previous == "closed":
                        log.warning(
                            "agency_down", agency=rt.name, failures=rt.breaker.last_failures,
                            calls=rt.breaker.last_calls, open_seconds=policy.open_seconds,
                            last_error=rt.last_error, worker_id=self.worker_id,
                        )
                elif after is BreakerState.CLOSED and await self.store.close_breaker(rt.name):
                    log.info("agency_recovered", agency=rt.name, worker_id=self.worker_id)
                rt.breaker.pending.pop(0)

    async def adopt(self) -> None:
        """Take on what the shared breakers say, unless a transition of ours is not yet out."""
        shared = await self.store.breakers()
        for name, rt in self.runtimes.items():
            row = shared.get(name)
            if row is None or rt.breaker.pending:
                continue
            if row.state == "open" and row.remaining_seconds > 0:
                rt.breaker.adopt(BreakerState.OPEN, row.remaining_seconds)
            elif row.state == "open":
                rt.breaker.adopt(BreakerState.HALF_OPEN)
            else:
                rt.breaker.adopt(BreakerState.CLOSED)

    def _stats(self, rt: AgencyRuntime) -> WorkerAgencyStats:
        summary = rt.recent.summary()
        last = datetime.fromtimestamp(summary.last_call_wall, UTC) if summary.last_call_wall else None
        return WorkerAgencyStats(
            agency=rt.name,
            calls=summary.calls,
            failures=summary.failures,
            p50_seconds=summary.p50_seconds,
            p95_seconds=summary.p95_seconds,
            in_flight=rt.in_flight,
            auth_failed=rt.auth_failed,
            last_error=rt.last_error,
            last_call_at=last,
        )


__all__ = ["Coordinator"]
