"""``GET /api/v1/agencies``: each agency's health, breaker, queue and recent latency.

Everything comes from PostgreSQL, so any API process shows the same picture whichever worker
made the calls: the shared breaker (``agency_breaker``), the queue (``agency_task``) and what
every live dispatcher reported of its recent calls (``agency_worker_stats``, written every
heartbeat). Latency is each worker's median weighted by its calls, and the worst worker's p95.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.sdk.manifest import Manifest
from enforcement.searches.store.agencies import AgencyCallStats, AgencyStoreProtocol, SharedBreaker
from enforcement.searches.store.tasks import TaskStoreProtocol

DEGRADED_FAILURE_RATIO = 0.2
DEGRADED_MIN_CALLS = 5
STATS_WINDOW_SECONDS = 60.0  # what RecentCalls keeps (enforcement.searches.runtime)


def health_of(breaker: str, stats: AgencyCallStats | None, live_workers: int) -> str:
    """down (breaker open), recovering (half-open), auth_failed, degraded (>= 20% of recent calls
    failed), unknown (no dispatcher alive to tell), else up."""
    if breaker == "open":
        return "down"
    if breaker == "half_open":
        return "recovering"
    if stats is not None and stats.auth_failed:
        return "auth_failed"
    if (stats is not None and stats.calls >= DEGRADED_MIN_CALLS
            and stats.failures / stats.calls >= DEGRADED_FAILURE_RATIO):
        return "degraded"
    if live_workers == 0:
        return "unknown"
    return "up"


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _policy(m: Manifest) -> dict[str, Any]:
    p = m.policy
    return {
        "timeout_seconds": p.timeout_seconds,
        "max_in_flight": p.max_in_flight,
        "rate_per_second": p.rate_per_second,
        "retry": {
            "max_attempts": p.retry.max_attempts,
            "initial_backoff_seconds": p.retry.initial_backoff_seconds,
            "max_backoff_seconds": p.retry.max_backoff_seconds,
        },
        "breaker": {
            "min_calls": p.breaker.min_calls,
            "failure_ratio": p.breaker.failure_ratio,
            "open_seconds": p.breaker.open_seconds,
            "half_open_probes": p.breaker.half_open_probes,
        },
        "deadline_seconds": p.deadline_seconds,
        "freshness_hours": p.freshness_hours,
    }


class AgencyView:
    def __init__(
        self,
        manifests: Mapping[str, Manifest],
        agencies: AgencyStoreProtocol,
        tasks: TaskStoreProtocol,
        *,
        liveness_seconds: float = 3.0,
    ) -> None:
        self.manifests = manifests
        self.agencies = agencies
        self.tasks = tasks
        self.liveness_seconds = liveness_seconds

    async def list(self) -> dict[str, Any]:
        """Every agency's health, shared breaker, queue, recent calls and effective policy, as
        ``GET /api/v1/agencies`` shows them. Who may: checked by the route (any signed-in user but
        an agency's own account). Raises nothing of its own (a database error propagates)."""
        breakers = await self.agencies.breakers()
        stats = await self.agencies.call_stats(max(self.liveness_seconds, 5.0))
        queues = await self.tasks.counts_by_agency()
        workers = await self.agencies.live_dispatchers(self.liveness_seconds)
        return {
            "workers": workers,
            "agencies": [
                self._one(m, breakers.get(name), stats.get(name), queues.get(name, {}), workers)
                for name, m in sorted(self.manifests.items())
            ],
        }

    def _one(
        self,
        m: Manifest,
        breaker: SharedBreaker | None,
        stats: AgencyCallStats | None,
        queue: Mapping[str, tuple[int, float]],
        workers: int,
    ) -> dict[str, Any]:
        state = breaker.view_state if breaker is not None else "closed"
        shown = breaker if breaker is not None and state != "closed" else None
        oldest = max((age for status, (_n, age) in queue.items() if status in ("queued", "waiting")), default=0.0)
        return {
            "name": m.name,
            "display_name": {"zh": m.display_zh, "en": m.display_en},
            "answer_mode": m.answer_mode,
            "callbacks": m.callbacks,
            "batch": {"max_size": m.batch.max_size, "max_wait_seconds": m.batch.max_wait_seconds} if m.batch else None,
            "health": health_of(state, stats, workers),
            "breaker": {
                "state": state,
                "opened_at": shown.opened_at.isoformat() if shown and shown.opened_at else None,
                "open_until": shown.open_until.isoformat() if shown and shown.open_until else None,
                "reason": shown.reason if shown else None,
            },
            "queue": {
                "queued": queue.get("queued", (0, 0.0))[0],
                "running": queue.get("running", (0, 0.0))[0],
                "waiting": queue.get("waiting", (0, 0.0))[0],
                "oldest_due_age_seconds": round(max(0.0, oldest), 3),
            },
            "recent": {
                "window_seconds": STATS_WINDOW_SECONDS,
                "calls": stats.calls if stats else 0,
                "failures": stats.failures if stats else 0,
                "p50_ms": _ms(stats.p50_seconds) if stats else None,
                "p95_ms": _ms(stats.p95_seconds) if stats else None,
                "in_flight": stats.in_flight if stats else 0,
                "last_error": stats.last_error if stats else None,
                "last_call_at": stats.last_call_at.isoformat() if stats and stats.last_call_at else None,
            },
            "policy": _policy(m),
        }


__all__ = ["AgencyView", "health_of"]
