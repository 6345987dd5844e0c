"""The lifecycle worker (role worker or all): one loop that, each tick, reconciles stale case
lifecycles, starts the re-query rounds that are due (within the tick's budget), completes those
whose search is done, reviews new answers for alerts, and now and then refreshes the indicator
gauges. The clock is injected: tests advance it instead of waiting.

Every step is durable and idempotent: the state is in PostgreSQL, rounds and answers are claimed
with SKIP LOCKED, alerts are unique; any number of workers can run, and a restart resumes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import structlog

from enforcement.cases.indicators import IndicatorService, Scope
from enforcement.cases.lifecycle import LifecycleService
from enforcement.cases.requery import RequeryScheduler, utc_now
from enforcement.cases.review import AnswerReviewer
from enforcement.domain.checklist import COURT_TZ
from enforcement.kernel import metrics
from enforcement.kernel.db_errors import is_database_unavailable
from enforcement.kernel.waits import wait_set

log = structlog.get_logger(__name__)

REVIEW_BATCH = 200
RECONCILE_SECONDS = 60.0   # the stale-lifecycle scan reads every case: not on every tick
RECONCILE_BATCH = 500
MIN_TICK_SECONDS = 0.2     # wake-ups (answers queued for review) may come often: at most this often


@dataclass(frozen=True, slots=True)
class TickResult:
    reconciled: int
    submitted: int
    completed: int
    alerts: int


class LifecycleWorker:
    """The lifecycle's background loop (see the module docstring); built in the composition root."""

    def __init__(self, *, lifecycle: LifecycleService, scheduler: RequeryScheduler, reviewer: AnswerReviewer,
                 indicators: IndicatorService, budget: int, tick_seconds: float, refresh_seconds: float,
                 now: Callable[[], datetime] = utc_now) -> None:
        self.lifecycle = lifecycle
        self.scheduler = scheduler
        self.reviewer = reviewer
        self.indicators = indicators
        self.budget = budget
        self.tick_seconds = tick_seconds
        self.refresh_seconds = refresh_seconds
        self.now = now
        self._wake = asyncio.Event()
        self._last_refresh = -math.inf
        self._last_reconcile = -math.inf

    def wake(self, _payload: str = "") -> None:
        """Run the next tick now (a NOTIFY on ``answer_review``: answers were queued for review).
        Nothing else wakes it: re-query rounds and removal checks wait for the next interval."""
        self._wake.set()

    async def tick(self, *, reconcile: bool = True) -> TickResult:
        """One pass: reconcile stale lifecycles (when ``reconcile``), start due re-queries, complete
        finished ones, review queued answers, set the backlog gauges; return what it did."""
        reconciled = 0
        started = time.monotonic()
        while reconcile:  # batches of 500 for at most ~10 s (after a settings change, many are stale)
            n = await self.lifecycle.reconcile(limit=RECONCILE_BATCH)
            reconciled += n
            reconcile = n == RECONCILE_BATCH and time.monotonic() - started < 10.0
        submitted = await self.scheduler.submit_due(self.budget)
        completed = await self.scheduler.complete()
        alerts = await self.scheduler.check_removals()
        while True:
            reviewed, raised = await self.reviewer.review(REVIEW_BATCH)
            alerts += raised
            if reviewed < REVIEW_BATCH:
                break
        due, in_flight = await self.scheduler.backlog()
        metrics.REQUERY_BACKLOG.labels(state="due").set(due)
        metrics.REQUERY_BACKLOG.labels(state="in_flight").set(in_flight)
        return TickResult(reconciled, len(submitted), len(completed), alerts)

    async def refresh_gauges(self, today: date | None = None) -> int:
        """Court-level values, year to date, into the Prometheus gauges; return how many were set."""
        day = today or self.now().astimezone(COURT_TZ).date()
        started = time.perf_counter()
        count = 0
        for court in await self.indicators.court_codes():
            report = await self.indicators.compute(None, Scope(date(day.year, 1, 1), day, court=court),
                                                   reconcile=False)
            for ind in report["indicators"]:
                value = ind["value"]
                metrics.INDICATOR_VALUE.labels(court=court, indicator=ind["code"]).set(
                    math.nan if value is None else float(value))
                count += 1
        metrics.INDICATOR_REFRESH_DURATION.observe(time.perf_counter() - started)
        return count

    async def run(self) -> None:
        """Tick until cancelled; a failed tick is logged and the next one tried."""
        while True:
            try:
                due = time.monotonic() - self._last_reconcile >= RECONCILE_SECONDS
                if due:
                    self._last_reconcile = time.monotonic()
                result = await self.tick(reconcile=due)
                if time.monotonic() - self._last_refresh >= self.refresh_seconds:
                    self._last_refresh = time.monotonic()
                    await self.refresh_gauges()
                if result.submitted or result.completed or result.alerts:
                    log.info("lifecycle_tick", **_fields(result))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_database_unavailable(exc):
                    log.warning("lifecycle_worker_database_unavailable", error=type(exc).__name__)
                else:
                    log.error("lifecycle_tick_failed", error=type(exc).__name__, exc_info=True)
            await asyncio.sleep(min(MIN_TICK_SECONDS, self.tick_seconds))
            self._wake.clear()
            await wait_set(self._wake, self.tick_seconds)


def _fields(r: TickResult) -> dict[str, Any]:
    return {"reconciled": r.reconciled, "submitted": r.submitted, "completed": r.completed, "alerts": r.alerts}


__all__ = ["LifecycleWorker", "TickResult"]
