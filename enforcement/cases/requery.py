"""The six-monthly re-query of 终本 debtors, driven by a clock the caller controls.

``submit_due`` claims the rounds due to start (``FOR UPDATE SKIP LOCKED``), and in the same
transaction creates each debtor's search (purpose 终本复查, every agency asked afresh, through
the search port ``enforcement.searches.port.SearchPort.submit_system``, handed the re-query
store's open transaction) and marks the round submitted: a round is searched once, however
many workers run and whenever one dies. At most ``budget`` rounds start per tick, so that
re-queries never take more than a share of the slowest agency's rate; when the worker was away,
only the latest due round of a debtor is searched and the earlier ones are recorded as missed.

``complete`` marks rounds whose search has completed as done, with how many properties were seen
there for the first time, and raises the dishonest-listing removal alert when at least two
post-closure network searches found nothing (no property at all in their answers) and no lead
came in (DOMAIN section 4): removal due within three working days, by the official calendar
(调休 included; ``enforcement.kernel.calendar``), of the second such search. The searches are the
re-query rounds and the judge's own full network searches after the closure
(``check_removals`` looks at cases where one of those completed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from uuid import UUID

import structlog

from connectors.sdk.manifest import Manifest
from enforcement.cases.store.alerts import NewAlert
from enforcement.cases.store.requery import DoneRound, DueRound, RequeryStore, RequeryTx
from enforcement.domain.calendar import WorkCalendar
from enforcement.domain.checklist import COURT_TZ
from enforcement.domain.errors import DomainError
from enforcement.domain.lifecycle import ZHONGBEN
from enforcement.domain.schedule import removal_due
from enforcement.domain.subjects import Subject
from enforcement.kernel import metrics
from enforcement.kernel.calendar import official_calendar
from enforcement.kernel.settings import Settings
from enforcement.searches.port import SearchPort, SystemSearch

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
    property_kinds: tuple[str, ...] = ("bank_account", "vehicle", "employment", "pension", "real_estate",
                                       "securities_holding")
    removal_searches: int = 2
    removal_working_days: int = 3
    calendar: WorkCalendar = field(default_factory=official_calendar)
    # a judge's recorded post-closure network search counts when it covers these categories
    network_categories: tuple[str, ...] = ("deposits", "vehicles", "real_estate", "securities")

    @classmethod
    def from_settings(cls, s: Settings) -> RequeryConfig:
        """The re-query as configured (interval, budget, property kinds, removal rule, holidays)."""
        return cls(
            interval_days=s.requery_interval_days, max_per_tick=s.requery_max_per_tick,
            agency_share=s.requery_agency_share, property_kinds=tuple(s.property_kinds),
            removal_searches=s.dishonest_removal_searches, removal_working_days=s.dishonest_removal_working_days,
            calendar=official_calendar(s.court_calendar_file, s.court_holidays),
            network_categories=tuple(s.zhongben_required_categories),
        )


def tick_budget(config: RequeryConfig, manifests: Mapping[str, Manifest], tick_seconds: float) -> int:
    """Re-queries to start in one tick: capped, and at most ``agency_share`` of what the slowest
    agency accepts in a tick (each re-query is one call to every agency)."""
    rates = [m.policy.rate_per_second for m in manifests.values() if m.policy.rate_per_second > 0]
    by_rate = math.floor(min(rates) * tick_seconds * config.agency_share) if rates else config.max_per_tick
    return max(1, min(config.max_per_tick, by_rate))


def latest_per_debtor(claimed: list[DueRound]) -> tuple[list[DueRound], list[int]]:
    """The latest due round of each debtor, and the ids of the earlier ones it supersedes."""
    latest: dict[int, DueRound] = {}
    for r in claimed:
        if r.party_id not in latest or r.round > latest[r.party_id].round:
            latest[r.party_id] = r
    keep = {r.id for r in latest.values()}
    return list(latest.values()), [r.id for r in claimed if r.id not in keep]


class RequeryScheduler:
    """The re-query of 终本 debtors: a store of rounds, and the search port to make their searches.
    Run by the lifecycle worker; no actor (a system duty on the legal schedule)."""

    def __init__(self, store: RequeryStore, searches: SearchPort, config: RequeryConfig, *,
                 now: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.searches = searches
        self.config = config
        self.now = now

    def today(self) -> date:
        """The court's date by the scheduler's clock."""
        return self.now().astimezone(COURT_TZ).date()

    async def submit_due(self, limit: int) -> list[UUID]:
        """Start the rounds due now (at most ``limit``); return the searches created.

        In one transaction: rounds whose window passed are recorded as missed; the due ones are
        claimed (SKIP LOCKED: another worker skips them); of a debtor's claimed rounds only the
        latest is searched, the earlier ones are missed; each search is made through the port in
        this transaction and its round marked submitted. A round whose search cannot be made (a
        ``DomainError``, e.g. no agency covers the subject) is recorded as missed. Raises nothing
        of its own; a database failure rolls the whole tick back (the rounds stay pending)."""
        today = self.today()
        created: list[UUID] = []
        async with self.store.transaction() as tx:
            missed = await tx.sweep_missed(today, self.config.interval_days)
            latest, superseded = latest_per_debtor(await tx.claim_due(today, self.config.interval_days, limit))
            round_ids: list[int] = []
            for r in latest:
                subject = Subject(kind=r.kind, id_number=r.id_number, name=r.name)
                try:
                    made = await self.searches.submit_system(tx.handle, SystemSearch(
                        case_id=r.case_id, subject=subject, purpose=PURPOSE, requested_by=REQUESTED_BY,
                        details={"requery_round": r.round, "due_on": r.due_on.isoformat()}))
                except DomainError as exc:  # e.g. no agency covers the subject: nothing can be sent
                    log.warning("requery_not_submitted", round_id=r.id, error=exc.code)
                    superseded.append(r.id)
                    continue
                round_ids.append(r.id)
                created.append(made.search_id)
            await tx.mark_missed(superseded)
            await tx.mark_submitted(round_ids, created, self.now())
        if created or missed or superseded:
            log.info("requery_submitted", searches=len(created), missed=missed + len(superseded))
        metrics.REQUERY_ROUNDS.labels(outcome="submitted").inc(len(created))
        metrics.REQUERY_ROUNDS.labels(outcome="missed").inc(missed + len(superseded))
        return created

    async def complete(self, limit: int = 500) -> list[DoneRound]:
        """Rounds whose search completed become done (with how many properties each found for the
        first time); in the same transaction, the dishonest-listing removal rule is checked for
        their cases and its alert raised once. Returns the rounds completed. Raises nothing of
        its own."""
        async with self.store.transaction() as tx:
            done = await tx.complete_rounds(self.now(), self.config.property_kinds, limit)
            for case_id in sorted({d.case_id for d in done}):
                await self._removal_check(tx, case_id)
        metrics.REQUERY_ROUNDS.labels(outcome="done").inc(len(done))
        return done

    async def check_removals(self, limit: int = 200) -> int:
        """The removal rule for 终本 cases in which a judge's own search completed after the closure
        (the rounds are checked by ``complete``); return the alerts raised. Raises nothing of its own."""
        raised = 0
        async with self.store.transaction() as tx:
            for case_id in await tx.removal_candidates(limit):
                raised += int(await self._removal_check(tx, case_id))
        return raised

    async def backlog(self) -> tuple[int, int]:
        """(rounds already due to start, re-query searches submitted but not completed)."""
        return await self.store.backlog(self.today())

    async def _removal_check(self, tx: RequeryTx, case_id: int) -> bool:
        f = await tx.removal_facts(case_id, self.config.property_kinds, self.config.network_categories)
        if f is None or f.closure_mode != ZHONGBEN or f.listed_on is None or f.listing_event_id is None:
            return False
        if f.delisted_on is not None and f.delisted_on >= f.listed_on:
            return False
        if f.leads_after > 0:
            return False
        found = removal_due(f.searches, needed=self.config.removal_searches,
                            working_days=self.config.removal_working_days, calendar=self.config.calendar)
        if found is None:
            return False
        due, empty = found
        created = await tx.raise_alert(NewAlert(
            kind="dishonest_removal_due", dedupe_key=f"dishonest_removal_due:{case_id}:{f.listing_event_id}",
            case_id=case_id, event_id=f.listing_event_id, due_on=due,
            evidence={"listed_on": f.listed_on.isoformat(),
                      "empty_searches": [{"on": x.done_on.isoformat(), "source": x.source} for x in empty],
                      "empty_requeries_completed_on": [x.done_on.isoformat() for x in empty],
                      "working_days": self.config.removal_working_days,
                      "calendar_knows_year": self.config.calendar.knows(due)}))
        if created:
            metrics.ALERTS_RAISED.labels(kind="dishonest_removal_due").inc()
        return created


__all__ = ["PURPOSE", "REQUESTED_BY", "RequeryConfig", "RequeryScheduler", "latest_per_debtor", "tick_budget",
           "utc_now"]
