"""The six-monthly re-query of 终本 debtors, driven by a clock the caller controls.

``submit_due`` claims the rounds due to start (``FOR UPDATE SKIP LOCKED``), and in the same
transaction creates each debtor's search (purpose 终本复查, every agency asked afresh, through
``SearchService.submit_system``) and marks the round submitted: a round is searched once, however
many workers run and whenever one dies. At most ``budget`` rounds start per tick, so that
re-queries never take more than a share of the slowest agency's rate; when the worker was away,
only the latest due round of a debtor is searched and the earlier ones are recorded as missed.

``complete`` marks rounds whose search has completed as done, with how many properties were seen
there for the first time, and raises the dishonest-listing removal alert when at least two
rounds found nothing new and no lead came in (DOMAIN section 4): removal due within three
working days of the second such round.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from connectors.sdk.manifest import Manifest
from enforcement.cases.store import alerts as alert_store
from enforcement.cases.store import requery as store
from enforcement.domain.checklist import COURT_TZ
from enforcement.domain.errors import DomainError
from enforcement.domain.lifecycle import ZHONGBEN
from enforcement.domain.schedule import add_working_days
from enforcement.domain.subjects import Subject
from enforcement.kernel import metrics
from enforcement.kernel.settings import Settings
from enforcement.searches.service import SearchService

log = structlog.get_logger(__name__)

REQUESTED_BY = "system:requery"
PURPOSE = "终本复查"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RequeryConfig:
    interval_days: int = 182
    max_per_tick: int = 20
    agency_share: float = 0.2
    property_kinds: tuple[str, ...] = ("bank_account", "vehicle", "employment", "pension", "real_estate", "securities")
    removal_searches: int = 2
    removal_working_days: int = 3
    holidays: frozenset[date] = frozenset()

    @classmethod
    def from_settings(cls, s: Settings) -> RequeryConfig:
        return cls(
            interval_days=s.requery_interval_days, max_per_tick=s.requery_max_per_tick,
            agency_share=s.requery_agency_share, property_kinds=tuple(s.property_kinds),
            removal_searches=s.dishonest_removal_searches, removal_working_days=s.dishonest_removal_working_days,
            holidays=frozenset(date.fromisoformat(d) for d in s.court_holidays),
        )


def tick_budget(config: RequeryConfig, manifests: Mapping[str, Manifest], tick_seconds: float) -> int:
    """Re-queries to start in one tick: capped, and at most ``agency_share`` of what the slowest
    agency accepts in a tick (each re-query is one call to every agency)."""
    rates = [m.policy.rate_per_second for m in manifests.values() if m.policy.rate_per_second > 0]
    by_rate = math.floor(min(rates) * tick_seconds * config.agency_share) if rates else config.max_per_tick
    return max(1, min(config.max_per_tick, by_rate))


class RequeryScheduler:
    def __init__(self, pool: asyncpg.Pool, searches: SearchService, config: RequeryConfig, *,
                 now: Callable[[], datetime] = utc_now) -> None:
        self.pool = pool
        self.searches = searches
        self.config = config
        self.now = now

    def today(self) -> date:
        return self.now().astimezone(COURT_TZ).date()

    async def submit_due(self, limit: int) -> list[UUID]:
        """Start the rounds due now (at most ``limit``); return the searches created."""
        today = self.today()
        created: list[UUID] = []
        async with self.pool.acquire() as conn, conn.transaction():
            missed = await store.sweep_missed(conn, today, self.config.interval_days)
            claimed = await store.claim_due(conn, today, self.config.interval_days, limit)
            latest: dict[int, dict[str, Any]] = {}
            for r in claimed:
                if r["party_id"] not in latest or r["round"] > latest[r["party_id"]]["round"]:
                    latest[r["party_id"]] = r
            keep = {r["id"] for r in latest.values()}
            superseded = [r["id"] for r in claimed if r["id"] not in keep]
            round_ids: list[int] = []
            for r in latest.values():
                subject = Subject(kind=r["kind"], id_number=r["id_number"], name=r["name"])
                try:
                    submitted = await self.searches.submit_system(
                        conn, case_id=r["case_id"], subject=subject, purpose=PURPOSE, requested_by=REQUESTED_BY,
                        details={"requery_round": int(r["round"]), "due_on": r["due_on"].isoformat()})
                except DomainError as exc:  # e.g. no agency covers the subject: nothing can be sent
                    log.warning("requery_not_submitted", round_id=r["id"], error=exc.code)
                    superseded.append(r["id"])
                    continue
                round_ids.append(int(r["id"]))
                created.append(submitted.search_id)
            await store.mark_missed(conn, superseded)
            await store.mark_submitted(conn, round_ids, created, self.now())
        if created or missed or superseded:
            log.info("requery_submitted", searches=len(created), missed=missed + len(superseded))
        metrics.REQUERY_ROUNDS.labels(outcome="submitted").inc(len(created))
        metrics.REQUERY_ROUNDS.labels(outcome="missed").inc(missed + len(superseded))
        return created

    async def complete(self, limit: int = 500) -> list[dict[str, Any]]:
        """Rounds whose search completed become done; check the dishonest-listing removal rule."""
        async with self.pool.acquire() as conn, conn.transaction():
            done = await store.complete_rounds(conn, self.now(), self.config.property_kinds, limit)
            for case_id in sorted({int(d["case_id"]) for d in done}):
                await self._removal_check(conn, case_id)
        metrics.REQUERY_ROUNDS.labels(outcome="done").inc(len(done))
        return done

    async def _removal_check(self, conn: Any, case_id: int) -> bool:
        f = await store.dishonest_removal_facts(conn, case_id)
        if f is None or f["closure_mode"] != ZHONGBEN or f["listed_on"] is None:
            return False
        if f["delisted_on"] is not None and f["delisted_on"] >= f["listed_on"]:
            return False
        if int(f["leads_after"]) > 0 or int(f["rounds_with_property"]) > 0:
            return False
        empty: list[datetime] = list(f["empty_rounds_done_at"] or [])
        n = self.config.removal_searches
        if len(empty) < n:
            return False
        second = empty[n - 1].astimezone(COURT_TZ).date()
        due = add_working_days(second, self.config.removal_working_days, self.config.holidays)
        created = await alert_store.raise_alert(conn, alert_store.NewAlert(
            kind="dishonest_removal_due", dedupe_key=f"dishonest_removal_due:{case_id}:{f['listing_event_id']}",
            case_id=case_id, event_id=int(f["listing_event_id"]), due_on=due,
            evidence={"listed_on": f["listed_on"].isoformat(),
                      "empty_requeries_completed_on": [d.astimezone(COURT_TZ).date().isoformat() for d in empty[:n]],
                      "working_days": self.config.removal_working_days}))
        if created:
            metrics.ALERTS_RAISED.labels(kind="dishonest_removal_due").inc()
        return created


__all__ = ["PURPOSE", "REQUESTED_BY", "RequeryConfig", "RequeryScheduler", "tick_budget", "utc_now"]
