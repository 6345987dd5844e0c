"""The case lifecycle service: record events, show the 终本 checklist, keep the derived state.

Recording an event is one transaction: the case is locked, the whole history (with the new
event) is replayed and checked, the lifecycle row and the case's status follow, a 终本 closure
gets its checklist verdict and its re-query rounds, a resumption cancels them, a consumption
restriction is checked against the hotel stays already known. Closing as 终本 is refused while a
condition is missing, unless a supervisor overrides with a written reason; the override is
audited in the same transaction.

``reconcile`` brings cases written by other paths (a case pushed already closed, a settings
change, a row that disagrees with what its events recorded: decision 0901) to the same state; the
worker runs it, and the indicators run it before computing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol

import structlog

from enforcement.cases.errors import ClosureRefused, InvalidOverride
from enforcement.cases.store.alerts import NewAlert
from enforcement.cases.store.lifecycle import (
    LifecycleCase,
    LifecycleReads,
    LifecycleStore,
    LifecycleTx,
    LifecycleValues,
    PlannedRound,
    RoundRow,
    StoredEvent,
    StoredLifecycle,
)
from enforcement.domain import authorization as authz
from enforcement.domain.actors import Actor
from enforcement.domain.audit import AuditEntry
from enforcement.domain.authorization import AccessDenied, CaseAccess, check_read
from enforcement.domain.breaches import Breach, Stay, breaches
from enforcement.domain.calendar import WorkCalendar
from enforcement.domain.checklist import COURT_TZ, Checklist, ChecklistRules, SearchFact, evaluate
from enforcement.domain.errors import CaseNotFound, DomainError
from enforcement.domain.lifecycle import (
    EVENT_TYPES,
    FULLY_ENFORCED,
    ZHONGBEN,
    CaseEvent,
    EventConflict,
    Lifecycle,
    replay,
    validate_event,
)
from enforcement.domain.measures import DEFAULT_RENEWAL_NOTICE_DAYS, advice_on_closure, expiry_state
from enforcement.domain.schedule import rounds
from enforcement.domain.subjects import Subject
from enforcement.kernel.calendar import official_calendar
from enforcement.kernel.settings import Settings

log = structlog.get_logger(__name__)

IMPLEMENTATION_TYPES = ("执", "执恢")  # cases that have a statutory period, a 终本 and a re-query
MIN_OVERRIDE_REASON = 5


def court_today() -> date:
    return datetime.now(COURT_TZ).date()


@dataclass(frozen=True, slots=True)
class LifecycleRules:
    statutory_months: int = 6
    statutory_months_non_litigation: int = 3
    checklist: ChecklistRules = field(default_factory=ChecklistRules)
    requery_interval_days: int = 182
    requery_years: int = 5
    requery_spread_days: int = 14
    # The closure checklist's measures: renewal due this many days before the expiry, where the
    # case's court set none of its own (``court.measure_renewal_notice_days``, decision 1704).
    measure_renewal_notice_days: int = DEFAULT_RENEWAL_NOTICE_DAYS
    # Court's choice: a deadline on a non-working day moves to the next working day (None: it does not)
    holiday_calendar: WorkCalendar | None = None

    @classmethod
    def from_settings(cls, s: Settings) -> LifecycleRules:
        """The rules as configured (statutory months, 终本 conditions, re-query schedule)."""
        return cls(
            statutory_months=s.statutory_months,
            statutory_months_non_litigation=s.statutory_months_non_litigation,
            checklist=ChecklistRules(required_categories=tuple(s.zhongben_required_categories),
                                     min_months=s.zhongben_min_months, require_onsite=s.zhongben_require_onsite),
            requery_interval_days=s.requery_interval_days,
            requery_years=s.requery_years,
            requery_spread_days=s.requery_spread_days,
            measure_renewal_notice_days=s.measure_renewal_notice_days,
            holiday_calendar=official_calendar(s.court_calendar_file, s.court_holidays)
            if s.deadline_holiday_extends else None,
        )

    @property
    def params(self) -> str:
        """What the stored lifecycle rows depend on; a change makes ``reconcile`` recompute them
        (``ext=dated``: extensions count only when approved within the period, issue 16)."""
        roll = ";holiday=next_working_day" if self.holiday_calendar is not None else ""
        return f"months={self.statutory_months}/{self.statutory_months_non_litigation};ext=dated{roll}"


@dataclass(frozen=True, slots=True)
class EventInput:
    type: str
    occurred_on: date
    data: Mapping[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    override_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    event: dict[str, Any]
    created: bool
    lifecycle: Lifecycle
    checklist: Checklist | None = None
    override: bool = False


class RaisesAlerts(Protocol):
    """An open store transaction that can raise an alert (the lifecycle's, the review's)."""

    async def raise_alert(self, alert: NewAlert) -> bool:
        """Insert once per dedupe key; True when created now."""
        ...


def event_view(row: StoredEvent) -> dict[str, Any]:
    t = EVENT_TYPES.get(row.event_type)
    return {
        "id": row.id,
        "type": row.event_type,
        "name": {"zh": t.zh, "en": t.en} if t else None,
        "occurred_on": row.occurred_on.isoformat(),
        "data": row.data,
        "source": row.source,
        "external_id": row.external_id,
        "recorded_at": row.recorded_at.isoformat() if row.recorded_at else None,
    }


def _access(case: LifecycleCase) -> CaseAccess:
    return CaseAccess(case.id, case.court_code, case.judge_login, case.status)


def check_record_event(actor: Actor, case: LifecycleCase) -> None:
    """Events come from the case's judge, a supervisor of its court, or its court's case system
    (decided by ``domain.authorization.check_record_event``)."""
    authz.check_record_event(actor, _access(case))


class LifecycleService:
    """The case lifecycle: events recorded (each in one store transaction with everything it
    changes), the history and the 终本 checklist read, the derived state kept. Built on a
    ``LifecycleStore``; never sees the database."""

    def __init__(self, store: LifecycleStore, rules: LifecycleRules, categories: Mapping[str, str], *,
                 today: Callable[[], date] = court_today) -> None:
        self.store = store
        self.rules = rules
        self.categories = dict(categories)  # agency -> search_category (from the connector manifests)
        self.today = today

    # -- reading --------------------------------------------------------------------------------

    async def _readable_case(self, actor: Actor, case_id: int) -> LifecycleCase:
        case = await self.store.get_case(case_id)
        if case is None:
            raise CaseNotFound(f"Case {case_id} does not exist.", message_zh=f"案件 {case_id} 不存在")
        try:
            check_read(actor, _access(case))
        except AccessDenied as exc:
            exc.about(action="case_read", case_id=case_id, case_number=case.case_number,
                      case_court=case.court_code)
            raise
        return case

    async def checklist(self, db: LifecycleReads, case: LifecycleCase, as_of: date,
                        events: Sequence[CaseEvent] | None = None) -> Checklist:
        """The 终本 checklist of a case as of a date, from its stored facts (read through ``db``:
        the store, or an open transaction of it)."""
        evs = events if events is not None else [r.event for r in await db.events_of(case.id)]
        debtors = await db.debtors_of(case.id)
        searches = [SearchFact(str(s.search_id), s.subject_key, s.agency, self.categories.get(s.agency, "unknown"),
                               s.purpose, s.answered_at, s.record_count, s.reused)
                    for s in await db.search_facts_of(case.id)]
        return evaluate(filed_on=case.filed_on, as_of=as_of, events=evs, debtors=debtors, searches=searches,
                        rules=self.rules.checklist, searchable=set(self.categories.values()))

    async def closure_check(self, actor: Actor, case_id: int, as_of: date | None = None) -> dict[str, Any]:
        """The 终本 checklist of a case: each legal condition, met or missing, with its evidence.
        ``as_of`` defaults to today, or for a case closed as 终本 to the day it was closed.

        Who: whoever may read the case (``check_read``). Raises ``CaseNotFound`` (404),
        ``AccessDenied`` (403)."""
        case = await self._readable_case(actor, case_id)
        # Default: today; for a case closed as 终本, the day it was closed (what the closure was judged on).
        closed_zb = case.closure_mode == ZHONGBEN and case.closed_on is not None
        day = as_of or (case.closed_on if closed_zb and case.closed_on else self.today())
        checklist = await self.checklist(self.store, case, day)
        return {"case_id": case_id, "case_number": case.case_number, "case_status": case.status,
                "closure_mode": case.closure_mode, "closed_on": _iso(case.closed_on),
                "required_categories": list(self.rules.checklist.required_categories), **checklist.to_dict(),
                "measures": await self._measures_on_closure(case)}

    async def _measures_on_closure(self, case: LifecycleCase) -> dict[str, Any]:
        """The case's controls in force, each with what to do with it: for the case's closure mode
        (a closed case), else for 终本 (this is the 终本 checklist); and, for an open case, on full
        payment (执行完毕: release)."""
        mode = case.closure_mode if case.status == "closed" and case.closure_mode else ZHONGBEN
        own = await self.store.renewal_notice_days_of(case.court_code)  # the case's court's, else the default
        today, notice = self.today(), self.rules.measure_renewal_notice_days if own is None else own
        items = []
        for c in await self.store.live_controls_of(case.id):
            entry: dict[str, Any] = {
                "measure_id": c.id, "url": f"/api/v1/measures/{c.id}", "kind": c.kind, "asset_kind": c.asset_kind,
                "agency": c.agency, "natural_key": c.natural_key, "status": c.status, "notice_number": c.notice_number,
                "effect_amount": None if c.effect_amount is None else f"{c.effect_amount:.2f}",
                "starts_on": _iso(c.starts_on), "expires_on": _iso(c.expires_on),
                "expiry_state": None if c.expires_on is None else expiry_state(c.expires_on, today, notice),
                **advice_on_closure(mode, c.expires_on, today, notice).to_dict(),
            }
            if case.status != "closed":
                entry["on_full_payment"] = advice_on_closure(FULLY_ENFORCED, c.expires_on, today, notice).to_dict()
            items.append(entry)
        return {"closure_mode": mode, "renewal_notice_days": notice, "items": items}

    async def history(self, actor: Actor, case_id: int) -> dict[str, Any]:
        """The case's events, its lifecycle replayed from them (deadline, suspensions, status), the
        stored 终本 verdict, the network searches that count for the checklist, and the re-query
        schedule.

        Who: whoever may read the case (``check_read``). Raises ``CaseNotFound`` (404),
        ``AccessDenied`` (403)."""
        case = await self._readable_case(actor, case_id)
        rows = await self.store.events_of(case_id)
        lc = self._replay(case, [r.event for r in rows])
        stored = await self.store.lifecycle_of(case_id) or StoredLifecycle()
        searches = await self.store.search_facts_of(case_id)
        schedule = await self.store.rounds_of_case(case_id)
        verdict = None
        if stored.zb_qualified is not None:
            verdict = {"qualified": stored.zb_qualified, "missing": list(stored.zb_missing),
                       "override_by": stored.zb_override_by, "override_reason": stored.zb_override_reason}
        return {
            "case_id": case_id,
            "case_number": case.case_number,
            "lifecycle": lc.to_dict(),
            "closure_verdict": verdict,
            "events": [event_view(r) for r in rows],
            "network_searches": [
                {"search_id": str(s.search_id), "subject_key_kind": s.subject_key.split(":", 1)[0],
                 "agency": s.agency, "category": self.categories.get(s.agency, "unknown"),
                 "purpose": s.purpose, "answered_at": s.answered_at.isoformat(),
                 "record_count": s.record_count, "reused": s.reused}
                for s in searches],
            "requery": [_round_view(r) for r in schedule],
        }

    async def case_id_for_number(self, case_number: str) -> int | None:
        """The case a number names, however it is written; None when there is none (or the text
        is not a case number). No authorization: the id alone discloses nothing, and whatever
        is then done with the case is checked."""
        return await self.store.case_id_for_number(case_number)

    # -- recording ------------------------------------------------------------------------------

    def _replay(self, case: LifecycleCase, events: Sequence[CaseEvent]) -> Lifecycle:
        return replay(events, filed_on=case.filed_on, non_litigation=case.non_litigation,
                      statutory_months=self.rules.statutory_months,
                      statutory_months_non_litigation=self.rules.statutory_months_non_litigation,
                      roll=self.rules.holiday_calendar.next_working_day if self.rules.holiday_calendar else None)

    async def record(self, actor: Actor, case_id: int, inp: EventInput, *, request_id: str = "") -> Recorded:
        """Record one event on a case, in one transaction with everything it changes: the case is
        locked, the whole history with the new event is replayed and checked, the lifecycle row
        and the case's status follow, a 终本 closure gets its checklist verdict and re-query
        rounds, a resumption cancels them and resolves the alerts it answers, a consumption
        restriction is checked against hotel stays already known. An event whose ``external_id``
        was recorded before with the same content is not recorded again (``created`` False).

        Who: the case's judge, a supervisor of its court, or its court's case system; closing as
        终本 with a condition missing only a supervisor of the court, with a written reason
        (audited as ``closure_override`` in the same transaction).

        Raises ``CaseNotFound`` (404); ``AccessDenied`` (403); ``EventConflict`` (409: the event
        does not fit the history, or ``external_id_reused`` with other content);
        ``ClosureRefused`` (409: 终本 conditions missing, no override reason); ``InvalidOverride``
        (422: reason too short); ``DomainError`` from ``validate_event`` (422: a bad event)."""
        async with self.store.transaction() as tx:
            case = await tx.lock_case(case_id)
            if case is None:
                raise CaseNotFound(f"Case {case_id} does not exist.", message_zh=f"案件 {case_id} 不存在")
            try:
                check_record_event(actor, case)
            except AccessDenied as exc:
                exc.about(action="case_event", case_id=case_id, case_number=case.case_number,
                          case_court=case.court_code)
                raise
            new = validate_event(CaseEvent(0, inp.type, inp.occurred_on, dict(inp.data)),
                                 filed_on=case.filed_on, today=self.today())
            if inp.external_id:
                existing = await tx.event_by_external_id(case_id, inp.external_id)
                if existing is not None:
                    before = {k: v for k, v in existing.data.items() if k != "override"}
                    same = (existing.event_type, existing.occurred_on, before) == (
                        new.type, new.occurred_on, dict(new.data))
                    if not same:
                        raise EventConflict("An event with this external_id was recorded with other content.",
                                            message_zh="该 external_id 已用于内容不同的节点", code="external_id_reused")
                    stored_events = [r.event for r in await tx.events_of(case_id)]
                    return Recorded(event_view(existing), False, self._replay(case, stored_events))
            events = [r.event for r in await tx.events_of(case_id)]
            lc = self._replay(case, [*events, new])  # raises EventConflict
            checklist: Checklist | None = None
            override = False
            if new.type == "closed" and new.data["mode"] == ZHONGBEN and case.case_type in IMPLEMENTATION_TYPES:
                checklist = await self.checklist(tx, case, new.occurred_on, events)
                if not checklist.ready:
                    override = self._check_override(actor, case, checklist, inp.override_reason)
                data = dict(new.data)
                if override:
                    data["override"] = {"by": actor.login, "reason": (inp.override_reason or "").strip()}
                new = replace(new, data=data)
            source = f"{'case_system' if str(actor.role) == 'case_system' else 'user'}:{actor.login}"
            row = await tx.insert_event(case_id, new.type, new.occurred_on, dict(new.data), source, inp.external_id)
            stored = replace(new, id=row.id)
            await self._apply(tx, case, lc, stored, checklist=checklist,
                              override_by=actor.login if override else None,
                              override_reason=(inp.override_reason or "").strip() if override else None)
            if override and self.store.audits and checklist is not None:
                await tx.audit(AuditEntry(
                    action="closure_override", actor_login=actor.login, actor_role=str(actor.role),
                    actor_court=actor.court_code, case_id=case_id, case_number=case.case_number,
                    case_court=case.court_code, purpose="终本", target=f"case_event:{row.id}",
                    request_id=request_id,
                    details={"override_reason": (inp.override_reason or "").strip(), "missing": checklist.missing,
                             "closed_on": new.occurred_on.isoformat()},
                ))
        log.info("case_event_recorded", case_id=case_id, event_type=new.type, override=override)
        return Recorded(event_view(row), True, lc, checklist, override)

    def _check_override(self, actor: Actor, case: LifecycleCase, checklist: Checklist,
                        reason: str | None) -> bool:
        if reason is None or not reason.strip():
            raise ClosureRefused(
                f"Closing as 终本 is refused: {len(checklist.missing)} requirement(s) missing "
                f"({', '.join(checklist.missing)}). A supervisor may override with a written reason.",
                message_zh=f"终本条件不具备，缺少{len(checklist.missing)}项：{'、'.join(checklist.missing)}；"
                           "院庭长可书面说明理由后越过",
                missing=checklist.missing,
            )
        try:
            authz.check_override_closure(actor, _access(case))
        except AccessDenied as exc:
            raise exc.about(case_number=case.case_number) from None
        if len(reason.strip()) < MIN_OVERRIDE_REASON:
            raise InvalidOverride(f"The override reason must be at least {MIN_OVERRIDE_REASON} characters.",
                                  message_zh=f"越过理由不少于{MIN_OVERRIDE_REASON}个字")
        return True

    async def _apply(self, tx: LifecycleTx, case: LifecycleCase, lc: Lifecycle, new: CaseEvent | None, *,
                     checklist: Checklist | None = None, override_by: str | None = None,
                     override_reason: str | None = None) -> None:
        """Make the stored state follow the case's events (the case row is locked by the caller)."""
        case_id = case.id
        await tx.upsert_lifecycle(case_id, LifecycleValues(
            filed_on=case.filed_on, non_litigation=case.non_litigation, base_months=lc.base_months,
            extension_months=lc.extension_months, extension_days=lc.extension_days,
            suspended_days=lc.suspended_days, suspended_since=lc.suspended_since, deadline=lc.deadline,
            settlement_performed=lc.settlement_performed, resumed_on=lc.resumed_on, params=self.rules.params,
            late_extensions=tuple(x.to_dict() for x in lc.late_extensions)))
        status: str
        mode: str | None
        closed_on: date | None
        if lc.closed_on is not None:
            status, mode, closed_on = "closed", lc.closure_mode, lc.closed_on
        elif case.status == "closed":  # closed by the case system's push, not by an event: keep it
            status, mode, closed_on = "closed", case.closure_mode, case.closed_on
        elif lc.suspensions == 0:  # the events say nothing of suspension: the case's own status stands
            status, mode, closed_on = case.status, None, None
        else:
            status, mode, closed_on = lc.status, None, None
        await tx.update_case_status(case_id, status=status, closure_mode=mode, closed_on=closed_on,
                                    amount_recovered=lc.amount_recovered)
        zhongben = mode == ZHONGBEN and case.case_type in IMPLEMENTATION_TYPES
        stored = await tx.lifecycle_of(case_id) or StoredLifecycle()
        if zhongben and closed_on is not None:
            if checklist is not None or stored.zb_qualified is None:
                cl = checklist or await self.checklist(tx, case, closed_on)
                await tx.set_closure_verdict(case_id, qualified=cl.ready and override_by is None,
                                             missing=cl.missing, override_by=override_by,
                                             override_reason=override_reason)
            if lc.resumed_on is None and stored.requery_for != closed_on:
                await self._schedule(tx, case_id, closed_on)
        if lc.resumed_on is not None or not zhongben:
            await tx.cancel_pending_rounds(case_id)
            if stored.requery_for is not None:
                await tx.set_requery_for(case_id, None)
        if new is not None and new.type == "resumed":
            await tx.resolve_alerts(case_id, ["new_property", "dishonest_removal_due"], f"case_event:{new.id}")
        if new is not None and new.type == "dishonest_delisted":
            await tx.resolve_alerts(case_id, ["dishonest_removal_due"], f"case_event:{new.id}")
        if new is not None and new.type == "consumption_restriction_issued":
            await self._breaches_of_case(tx, case_id)

    async def _schedule(self, tx: LifecycleTx, case_id: int, closed_on: date) -> None:
        planned: list[PlannedRound] = []
        for d in await tx.debtors_of(case_id):
            for r in rounds(closed_on, interval_days=self.rules.requery_interval_days,
                            years=self.rules.requery_years, spread_days=self.rules.requery_spread_days,
                            key=d.subject_key):
                planned.append(PlannedRound(d.party_id, r.number, r.due_on, r.run_on))
        await tx.schedule_rounds(case_id, closed_on, planned)
        await tx.set_requery_for(case_id, closed_on)

    async def _breaches_of_case(self, tx: LifecycleTx, case_id: int) -> int:
        """A restriction just recorded: hotel stays the service already holds may breach it. Only
        the case's own: its orders, checked against the stays shown by searches of this case
        (results serve their own case only, DOMAIN.md §6), about its debtors and about the
        responsible persons of its organization debtors (the order binds them through the
        organization, SPC 限制消费规定 art. 3(2))."""
        subjects = [(d.kind, d.id_number, d.subject_key) for d in await tx.debtors_of(case_id)]
        subjects += [("person", p.id_number, Subject(kind="person", id_number=p.id_number, name=p.name).key)
                     for p in await tx.responsible_persons_of(case_id)]
        raised = 0
        for kind, id_number, subject_key in subjects:
            orders = await tx.restriction_orders_of(kind, id_number, case_id)
            if not orders:
                continue
            stays = [s for s in (Stay.from_record(r.natural_key, r.data, answer_id=r.answer_id,
                                                  search_id=str(r.search_id))
                                 for r in await tx.hotel_stays_of([subject_key], case_id))
                     if s is not None]
            for b in breaches(orders, stays):
                raised += await raise_breach(tx, b)
        return raised

    # -- reconciling ----------------------------------------------------------------------------

    async def reconcile(self, *, court: str | None = None, limit: int = 500) -> int:
        """Recompute the lifecycle of cases whose stored state is missing or stale (each in a
        transaction of its own, the case locked); return how many. A system duty (the worker, the
        indicators before computing): no actor, raises nothing of its own."""
        ids = await self.store.stale_cases(court, self.rules.params, limit)
        for case_id in ids:
            async with self.store.transaction() as tx:
                case = await tx.lock_case(case_id)
                if case is None:
                    continue
                events = [r.event for r in await tx.events_of(case_id)]
                try:
                    lc = self._replay(case, events)
                except DomainError as exc:
                    log.warning("lifecycle_history_inconsistent", case_id=case_id, error=exc.code)
                    lc = self._replay(case, [])
                await self._apply(tx, case, lc, None)
                after = await tx.get_case(case_id) or case
                moved = [k for k in ("status", "closure_mode", "closed_on", "amount_recovered")
                         if getattr(after, k) != getattr(case, k)]
                if moved:  # the row had drifted from its events (e.g. a re-push before decision 0901)
                    log.warning("case_row_disagreed_with_events", case_id=case_id, fields=moved,
                                row={k: str(getattr(case, k)) for k in moved},
                                events={k: str(getattr(after, k)) for k in moved})
        if ids:
            log.info("lifecycle_reconciled", cases=len(ids))
        return len(ids)


async def raise_breach(sink: RaisesAlerts, b: Breach) -> int:
    """Raise the alert of a consumption-restriction breach (once per order and stay); 1 if new."""
    created = await sink.raise_alert(NewAlert(
        kind="consumption_breach", dedupe_key=b.dedupe_key, case_id=b.order.case_id, party_id=b.order.party_id,
        event_id=b.order.event_id, evidence={**b.evidence(), "message": b.message()}))
    return int(created)


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _round_view(r: RoundRow) -> dict[str, Any]:
    return {
        "round": r.round, "party_id": r.party_id, "debtor_name": r.debtor_name,
        "closed_on": r.closed_on.isoformat(), "due_on": r.due_on.isoformat(), "run_on": r.run_on.isoformat(),
        "status": r.status, "search_id": str(r.search_id) if r.search_id else None,
        "submitted_at": r.submitted_at.isoformat() if r.submitted_at else None,
        "completed_at": r.completed_at.isoformat() if r.completed_at else None,
        "new_assets": r.new_assets,
    }


__all__ = [
    "IMPLEMENTATION_TYPES", "EventInput", "LifecycleRules", "LifecycleService", "RaisesAlerts", "Recorded",
    "check_record_event", "court_today", "event_view", "raise_breach",
]
