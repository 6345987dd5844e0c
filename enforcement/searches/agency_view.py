"""``GET /api/v1/agencies``: each agency's health, breaker, queue and recent latency.

Everything comes from PostgreSQL, so any API process shows the same picture whichever worker
made the calls: the shared breaker (``agency_breaker``), the queue (``agency_task``) and what
every live dispatcher reported of its recent calls (``agency_worker_stats``, written every
heartbeat). Latency is each worker's median weighted by its calls, and the worst worker's p95.
Callbacks of the last hour come from ``agency_callback_minute`` (counted by the receiver). Each
secret's age comes from its recorded issue date (settings ``AGENCY_<NAME>_CALLBACK_SECRET_ISSUED``,
``AGENCY_<NAME>_SECRET_ISSUED``); the view never carries a secret, only whether one is set.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from connectors.sdk.manifest import Manifest
from enforcement.searches.store.agencies import AgencyCallStats, AgencyStoreProtocol, CallbackCounts, SharedBreaker
from enforcement.searches.store.tasks import TaskStoreProtocol

DEGRADED_FAILURE_RATIO = 0.2
DEGRADED_MIN_CALLS = 5
STATS_WINDOW_SECONDS = 60.0  # what RecentCalls keeps (enforcement.searches.runtime)
CALLBACK_WINDOW_SECONDS = 3600.0
ROTATION_RUNBOOK = "ops/runbook.md#rotating-keys-and-secrets"
COURT_TZ = timezone(timedelta(hours=8), "CST")  # an issue date is a day in Beijing


@dataclass(frozen=True, slots=True)
class SecretRegister:
    """Which secrets are set (never their values) and when each was issued, from the settings."""

    callback_configured: Set[str] = frozenset()
    credential_configured: Set[str] = frozenset()
    callback_issued: Mapping[str, date] = field(default_factory=dict)
    credential_issued: Mapping[str, date] = field(default_factory=dict)
    max_age_days: int = 180


def secret_entry(kind: str, agency: str, configured: bool, issued: date | None, today: date,
                 max_age_days: int) -> dict[str, Any]:
    """One secret's age as the view shows it: status ok, unrecorded (no issue date), too_old (past
    ``max_age_days``) or not_configured; a warning (both languages) and the runbook for all but ok."""
    setting = f"AGENCY_{agency.upper()}_{'CALLBACK_SECRET' if kind == 'callback' else 'SECRET'}"
    age = (today - issued).days if configured and issued is not None else None
    warning: dict[str, str] | None
    if not configured:
        status = "not_configured"
        warning = ({"zh": "未配置回调密钥，回调将被拒绝",
                    "en": "No callback secret is configured: callbacks are refused"}
                   if kind == "callback" else None)
    elif issued is None:
        status = "unrecorded"
        warning = {"zh": "未登记发放日期", "en": "issue date not recorded"}
    elif age is not None and age > max_age_days:
        status = "too_old"
        warning = {"zh": f"已使用 {age} 天，超过 {max_age_days} 天，请轮换",
                   "en": f"{age} days old, past {max_age_days} days: rotate it"}
    else:
        status = "ok"
        warning = None
    return {
        "kind": kind,
        "setting": setting,
        "configured": configured,
        "issued_on": issued.isoformat() if configured and issued is not None else None,
        "secret_age_days": age,
        "max_age_days": max_age_days,
        "status": status,
        "warning": warning,
        "runbook": ROTATION_RUNBOOK if warning is not None else None,
    }


def _callback_activity(counts: CallbackCounts | None) -> dict[str, Any]:
    return {
        "window_seconds": CALLBACK_WINDOW_SECONDS,
        "accepted": counts.accepted if counts else 0,
        "refused": counts.refused if counts else 0,
        "last_at": counts.last_at.isoformat() if counts and counts.last_at else None,
        "last_result": counts.last_result if counts else None,
        "last_reason": counts.last_reason if counts and counts.last_result == "refused" else None,
    }


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
        secrets: SecretRegister | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.manifests = manifests
        self.agencies = agencies
        self.tasks = tasks
        self.liveness_seconds = liveness_seconds
        self.secrets = secrets or SecretRegister()
        self.clock = clock

    async def list(self) -> dict[str, Any]:
        """Every agency's health, shared breaker, queue, recent calls and effective policy, as
        ``GET /api/v1/agencies`` shows them. Who may: checked by the route (any signed-in user but
        an agency's own account). Raises nothing of its own (a database error propagates)."""
        breakers = await self.agencies.breakers()
        stats = await self.agencies.call_stats(max(self.liveness_seconds, 5.0))
        queues = await self.tasks.counts_by_agency()
        workers = await self.agencies.live_dispatchers(self.liveness_seconds)
        callbacks = await self.agencies.callback_counts(CALLBACK_WINDOW_SECONDS)
        today = self.clock().astimezone(COURT_TZ).date()
        return {
            "workers": workers,
            "agencies": [
                {**self._one(m, breakers.get(name), stats.get(name), queues.get(name, {}), workers),
                 "callback_activity": _callback_activity(callbacks.get(name)) if m.callbacks else None,
                 "secrets": self._secrets(m, today)}
                for name, m in sorted(self.manifests.items())
            ],
        }

    def _secrets(self, m: Manifest, today: date) -> builtins.list[dict[str, Any]]:
        r = self.secrets
        out = [secret_entry("credential", m.name, m.name in r.credential_configured, r.credential_issued.get(m.name),
                            today, r.max_age_days)]
        if m.callbacks:
            out.append(secret_entry("callback", m.name, m.name in r.callback_configured,
                                    r.callback_issued.get(m.name), today, r.max_age_days))
        return out

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


__all__ = ["AgencyView", "SecretRegister", "health_of", "secret_entry"]
