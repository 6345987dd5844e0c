"""In-memory fakes of the cases stores, with the methods the services call and the transaction
semantics that matter: what a transaction wrote is undone when its block raises."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from enforcement.cases.store.alerts import NewAlert
from enforcement.cases.store.lifecycle import (
    HotelStayRow,
    LifecycleCase,
    LifecycleValues,
    LiveControlRow,
    PlannedRound,
    ResponsiblePersonRow,
    RoundRow,
    SearchFactRow,
    StoredEvent,
    StoredLifecycle,
)
from enforcement.cases.store.registry import (
    CaseFilter,
    CaseRecord,
    CaseSearch,
    EventRecord,
    Party,
    PushConflict,
    Responsible,
    RowResult,
    Upserted,
)
from enforcement.cases.store.requery import DoneRound, DueRound, RemovalFacts
from enforcement.domain.audit import AuditEntry
from enforcement.domain.breaches import RestrictionOrder
from enforcement.domain.cases import CaseInput, CaseRejected, FieldConflict
from enforcement.domain.checklist import Debtor

NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


# -- the case registry --------------------------------------------------------------------------


@dataclass
class FakeCaseRegistry:
    """Cases by number; ``courts`` the courts that exist; ``conflicting`` the case numbers whose
    push contradicts their recorded events (so a conflict is kept)."""

    courts: set[str] = field(default_factory=lambda: {"辽0102", "辽0103"})
    conflicting: set[str] = field(default_factory=set)
    cases: dict[str, CaseRecord] = field(default_factory=dict)
    audits: list[AuditEntry] = field(default_factory=list)
    pushed: list[str] = field(default_factory=list)

    def _upsert(self, case: CaseInput, pushed_by: str) -> Upserted:
        if case.court_code not in self.courts:
            raise CaseRejected("unknown_court", "court_code", "No such court.", "法院不存在")
        self.pushed.append(case.case_number)
        old = self.cases.get(case.case_number)
        record = CaseRecord(
            id=old.id if old else len(self.cases) + 1, case_number=case.case_number,
            case_number_as_written=case.case_number, court_code=case.court_code, court_name="法院",
            case_type=case.case_type, judge_login=case.judge.login if case.judge else None,
            judge_name=case.judge.name if case.judge else None, judge_officer_id=None,
            applicant_name=case.applicant.name, cause=case.cause, amount_to_enforce=case.amount_to_enforce,
            amount_recovered=case.amount_recovered, non_litigation=case.non_litigation, filed_on=case.filed_on,
            status=case.status, closure_mode=case.closure_mode, closed_on=case.closed_on, statutory_deadline=None,
            overdue=False, created_at=NOW, updated_at=NOW,
            parties=(Party("applicant", case.applicant.kind, case.applicant.id_number, case.applicant.name),
                     *(Party("debtor", d.kind, d.id_number, d.name,
                             tuple(Responsible(r.person.name, r.person.id_number, r.role)
                                   for r in case.responsible if r.debtor_id_number == d.id_number))
                       for d in case.debtors)))
        self.cases[case.case_number] = record
        outcome = "created" if old is None else ("unchanged" if replace(old) == record else "updated")
        if case.case_number in self.conflicting:
            return Upserted(record.id, outcome, (FieldConflict("status", "open", "closed"),), 77)
        return Upserted(record.id, outcome)

    async def push(self, case: CaseInput, pushed_by: str) -> Upserted:
        return self._upsert(case, pushed_by)

    async def push_many(self, rows: Sequence[tuple[int, CaseInput]], pushed_by: str) -> list[RowResult]:
        out = []
        for line, case in rows:
            try:
                out.append(RowResult(line, case.case_number, upserted=self._upsert(case, pushed_by)))
            except CaseRejected as exc:
                out.append(RowResult(line, case.case_number, rejected=exc))
        return out

    async def record_audit(self, entry: AuditEntry) -> None:
        self.audits.append(entry)

    async def find(self, f: CaseFilter) -> tuple[list[CaseRecord], int]:
        rows = [c for c in self.cases.values()
                if (f.court_code is None or c.court_code == f.court_code)
                and (f.judge_login is None or c.judge_login == f.judge_login)]
        return rows[f.offset:f.offset + f.limit], len(rows)

    async def get(self, case_id: int) -> CaseRecord | None:
        return next((c for c in self.cases.values() if c.id == case_id), None)

    async def events(self, case_id: int) -> list[EventRecord]:
        return []

    async def searches(self, case_id: int, limit: int = 200) -> list[CaseSearch]:
        return []

    async def push_conflicts(self, court_code: str | None, limit: int, offset: int) -> tuple[list[PushConflict], int]:
        return [], 0


# -- the lifecycle -----------------------------------------------------------------------------


@dataclass
class LifecycleData:
    cases: dict[int, LifecycleCase] = field(default_factory=dict)
    events: dict[int, list[StoredEvent]] = field(default_factory=dict)
    lifecycles: dict[int, StoredLifecycle] = field(default_factory=dict)
    debtors: dict[int, list[Debtor]] = field(default_factory=dict)
    rounds: dict[int, list[PlannedRound]] = field(default_factory=dict)
    alerts: list[NewAlert] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    controls: dict[int, list[LiveControlRow]] = field(default_factory=dict)
    notice_days: dict[str, int] = field(default_factory=dict)  # courts' own renewal notice days
    next_id: int = 1


class FakeLifecycleStore:
    """The store and its transactions in one object: a transaction works on a copy of the data,
    kept when the block ends, dropped when it raises."""

    def __init__(self, *, audits: bool = True) -> None:
        self.data = LifecycleData()
        self.audits = audits
        self.commits = 0
        self.rollbacks = 0

    def add_case(self, case: LifecycleCase, debtors: Sequence[Debtor] = ()) -> None:
        self.data.cases[case.id] = case
        self.data.events[case.id] = []
        self.data.debtors[case.id] = list(debtors)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeLifecycleStore]:
        before = copy.deepcopy(self.data)
        try:
            yield self
        except BaseException:
            self.data = before
            self.rollbacks += 1
            raise
        self.commits += 1

    # reads
    async def get_case(self, case_id: int) -> LifecycleCase | None:
        return self.data.cases.get(case_id)

    lock_case = get_case

    async def events_of(self, case_id: int) -> list[StoredEvent]:
        return sorted(self.data.events.get(case_id, []), key=lambda e: (e.occurred_on, e.id))

    async def lifecycle_of(self, case_id: int) -> StoredLifecycle | None:
        return self.data.lifecycles.get(case_id)

    async def debtors_of(self, case_id: int) -> list[Debtor]:
        return list(self.data.debtors.get(case_id, []))

    async def search_facts_of(self, case_id: int) -> list[SearchFactRow]:
        return []

    async def live_controls_of(self, case_id: int) -> list[LiveControlRow]:
        return list(self.data.controls.get(case_id, []))

    async def renewal_notice_days_of(self, court_code: str) -> int | None:
        return self.data.notice_days.get(court_code)

    async def restriction_orders_of(self, subject_kind: str, id_number: str, case_id: int) -> list[RestrictionOrder]:
        return []

    async def hotel_stays_of(self, subject_keys: Sequence[str], case_id: int) -> list[HotelStayRow]:
        return []

    async def responsible_persons_of(self, case_id: int) -> list[ResponsiblePersonRow]:
        return []

    async def case_id_for_number(self, case_number: str) -> int | None:
        return next((c.id for c in self.data.cases.values() if c.case_number == case_number), None)

    async def rounds_of_case(self, case_id: int) -> list[RoundRow]:
        return []

    async def stale_cases(self, court_code: str | None, params: str, limit: int) -> list[int]:
        return []

    # writes
    async def event_by_external_id(self, case_id: int, external_id: str) -> StoredEvent | None:
        return next((e for e in self.data.events[case_id] if e.external_id == external_id), None)

    async def insert_event(self, case_id: int, event_type: str, occurred_on: date, data: dict[str, Any],
                           source: str, external_id: str | None) -> StoredEvent:
        event = StoredEvent(self.data.next_id, event_type, occurred_on, data, source, external_id, NOW)
        self.data.next_id += 1
        self.data.events[case_id].append(event)
        return event

    async def upsert_lifecycle(self, case_id: int, v: LifecycleValues) -> None:
        old = self.data.lifecycles.get(case_id, StoredLifecycle())
        self.data.lifecycles[case_id] = old

    async def set_closure_verdict(self, case_id: int, *, qualified: bool, missing: Sequence[str],
                                  override_by: str | None, override_reason: str | None) -> None:
        old = self.data.lifecycles.get(case_id, StoredLifecycle())
        self.data.lifecycles[case_id] = replace(old, zb_qualified=qualified, zb_missing=tuple(missing),
                                                zb_override_by=override_by, zb_override_reason=override_reason)

    async def set_requery_for(self, case_id: int, closed_on: date | None) -> None:
        old = self.data.lifecycles.get(case_id, StoredLifecycle())
        self.data.lifecycles[case_id] = replace(old, requery_for=closed_on)

    async def update_case_status(self, case_id: int, *, status: str, closure_mode: str | None,
                                 closed_on: date | None, amount_recovered: Decimal | None) -> None:
        c = self.data.cases[case_id]
        self.data.cases[case_id] = replace(c, status=status, closure_mode=closure_mode, closed_on=closed_on,
                                           amount_recovered=amount_recovered or c.amount_recovered)

    async def schedule_rounds(self, case_id: int, closed_on: date, rounds: Sequence[PlannedRound]) -> None:
        self.data.rounds[case_id] = list(rounds)

    async def cancel_pending_rounds(self, case_id: int) -> None:
        self.data.rounds.pop(case_id, None)

    async def resolve_alerts(self, case_id: int, kinds: Sequence[str], by: str) -> None:
        return None

    async def raise_alert(self, alert: NewAlert) -> bool:
        self.data.alerts.append(alert)
        return True

    async def audit(self, entry: AuditEntry) -> None:
        self.data.audit.append(entry)


# -- the re-query ------------------------------------------------------------------------------


class FakeRequeryTx:
    def __init__(self, store: FakeRequeryStore) -> None:
        self.store = store
        self.handle = object()  # what the port must receive, untouched
        self.missed: list[int] = []
        self.submitted: list[tuple[int, UUID]] = []

    async def sweep_missed(self, today: date, interval_days: int) -> int:
        return self.store.swept

    async def claim_due(self, today: date, interval_days: int, limit: int) -> list[DueRound]:
        return [r for r in self.store.due if r.run_on <= today][:limit]

    async def mark_missed(self, round_ids: Sequence[int]) -> None:
        self.missed.extend(round_ids)

    async def mark_submitted(self, round_ids: Sequence[int], search_ids: Sequence[UUID], at: datetime) -> None:
        self.submitted.extend(zip(round_ids, search_ids, strict=True))

    async def complete_rounds(self, at: datetime, property_kinds: Sequence[str], limit: int) -> list[DoneRound]:
        return []

    async def removal_facts(self, case_id: int, property_kinds: Sequence[str],
                            categories: Sequence[str]) -> RemovalFacts | None:
        return None

    async def removal_candidates(self, limit: int) -> list[int]:
        return []

    async def raise_alert(self, alert: NewAlert) -> bool:
        return True


class FakeRequeryStore:
    """``due``: the pending rounds; each transaction's effects land in ``committed`` only when its
    block ends without an exception."""

    def __init__(self, due: Sequence[DueRound], swept: int = 0) -> None:
        self.due = list(due)
        self.swept = swept
        self.committed: list[FakeRequeryTx] = []
        self.rolled_back: list[FakeRequeryTx] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeRequeryTx]:
        tx = FakeRequeryTx(self)
        try:
            yield tx
        except BaseException:
            self.rolled_back.append(tx)
            raise
        self.committed.append(tx)

    async def backlog(self, today: date) -> tuple[int, int]:
        return len(self.due), 0
