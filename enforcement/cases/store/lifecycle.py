"""Case lifecycle storage: events, the derived lifecycle row, the facts the 终本 checklist and the
breach check read.

``LifecycleStore`` reads on the pool, and owns the transaction in which an event is recorded or a
case reconciled: ``async with store.transaction() as tx`` yields a ``LifecycleTx`` whose methods
all run on that one transaction, so that an event, the lifecycle it changes, the closure
verdict, the re-query rounds (requery.sql), the alerts (alerts.sql) and the override's audit
record commit together or not at all. Both return frozen values, never driver rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from enforcement.cases.store.alerts import NewAlert, raise_alert_on, resolve_case_alerts_on, restriction_orders_on
from enforcement.domain.audit import AuditEntry
from enforcement.domain.breaches import RestrictionOrder
from enforcement.domain.cases import CaseRejected, case_number_key
from enforcement.domain.checklist import Debtor
from enforcement.domain.lifecycle import CaseEvent
from enforcement.kernel.audit import AuditLog, Conn
from enforcement.kernel.queries import Q


@dataclass(frozen=True, slots=True)
class LifecycleCase:
    """The case fields the lifecycle works on (``lock_case_for_lifecycle``)."""

    id: int
    case_number: str
    court_code: str
    case_type: str
    judge_login: str | None
    filed_on: date
    non_litigation: bool
    status: str
    closure_mode: str | None
    closed_on: date | None
    amount_recovered: Decimal | None

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> LifecycleCase:
        return cls(int(r["id"]), r["case_number"], r["court_code"], r["case_type"], r["judge_login"], r["filed_on"],
                   bool(r["non_litigation"]), r["status"], r["closure_mode"], r["closed_on"], r["amount_recovered"])


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as stored, with where it came from."""

    id: int
    event_type: str
    occurred_on: date
    data: dict[str, Any]
    source: str
    external_id: str | None = None
    recorded_at: datetime | None = None

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> StoredEvent:
        data = r["data"]
        return cls(int(r["id"]), str(r["event_type"]), r["occurred_on"], data if isinstance(data, dict) else {},
                   str(r["source"] or ""), r["external_id"], r["recorded_at"])

    @property
    def event(self) -> CaseEvent:
        return CaseEvent(self.id, self.event_type, self.occurred_on, self.data, self.source)


@dataclass(frozen=True, slots=True)
class StoredLifecycle:
    """What ``case_lifecycle`` keeps of a case: the 终本 verdict and the closure its re-query
    rounds were scheduled for (the rest is recomputed from the events)."""

    zb_qualified: bool | None = None
    zb_missing: tuple[str, ...] = ()
    zb_override_by: str | None = None
    zb_override_reason: str | None = None
    requery_for: date | None = None

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> StoredLifecycle:
        return cls(r["zb_qualified"], tuple(r["zb_missing"] or ()), r["zb_override_by"], r["zb_override_reason"],
                   r["requery_for"])


@dataclass(frozen=True, slots=True)
class LiveControlRow:
    """A freeze or seal of the case in force (read from the measures feature's table, decision 1701)."""

    id: int
    kind: str
    asset_kind: str
    agency: str
    natural_key: str
    status: str
    effect_amount: Decimal | None
    starts_on: date | None
    expires_on: date | None
    notice_number: str

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> LiveControlRow:
        return cls(int(r["id"]), r["kind"], r["asset_kind"], r["agency"], r["target_key"], r["status"],
                   r["effect_amount"], r["starts_on"], r["expires_on"], r["document_number"])


@dataclass(frozen=True, slots=True)
class SearchFactRow:
    """One agency's successful answer in a search of the case (the checklist's raw fact)."""

    search_id: UUID
    subject_key: str
    purpose: str
    agency: str
    reused: bool
    answered_at: datetime
    record_count: int

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> SearchFactRow:
        return cls(r["search_id"], r["subject_key"], r["purpose"], r["agency"], bool(r["reused"]), r["answered_at"],
                   int(r["record_count"]))


@dataclass(frozen=True, slots=True)
class RoundRow:
    """A re-query round of the case's schedule."""

    id: int
    party_id: int
    debtor_name: str
    round: int
    closed_on: date
    due_on: date
    run_on: date
    status: str
    search_id: UUID | None
    submitted_at: datetime | None
    completed_at: datetime | None
    new_assets: int | None

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> RoundRow:
        return cls(int(r["id"]), int(r["party_id"]), r["debtor_name"], int(r["round"]), r["closed_on"], r["due_on"],
                   r["run_on"], r["status"], r["search_id"], r["submitted_at"], r["completed_at"], r["new_assets"])


@dataclass(frozen=True, slots=True)
class ResponsiblePersonRow:
    """A responsible person of one of the case's organization debtors."""

    id_number: str
    name: str


@dataclass(frozen=True, slots=True)
class HotelStayRow:
    """A hotel stay reported about a subject, with the answer and search that reported it."""

    subject_key: str
    natural_key: str
    data: dict[str, Any]
    answer_id: int
    search_id: UUID

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> HotelStayRow:
        return cls(r["subject_key"], r["natural_key"], r["data"] if isinstance(r["data"], dict) else {},
                   int(r["answer_id"]), r["search_id"])


@dataclass(frozen=True, slots=True)
class LifecycleValues:
    """The derived lifecycle row (``upsert_case_lifecycle``)."""

    filed_on: date
    non_litigation: bool
    base_months: int
    extension_months: int
    extension_days: int
    suspended_days: int
    suspended_since: date | None
    deadline: date | None
    settlement_performed: bool
    resumed_on: date | None
    params: str
    late_extensions: tuple[dict[str, Any], ...] = ()  # approved after the period ran out (shown, not counted)


@dataclass(frozen=True, slots=True)
class PlannedRound:
    party_id: int
    round: int
    due_on: date
    run_on: date


class LifecycleReads:
    """The reads, on the pool or inside a transaction."""

    def __init__(self, db: asyncpg.Pool | Conn) -> None:
        self._db = db

    async def get_case(self, case_id: int) -> LifecycleCase | None:
        row = await self._db.fetchrow(Q.get_case_for_lifecycle, case_id)
        return None if row is None else LifecycleCase.from_row(row)

    async def events_of(self, case_id: int) -> list[StoredEvent]:
        return [StoredEvent.from_row(r) for r in await self._db.fetch(Q.events_of_case, case_id)]

    async def lifecycle_of(self, case_id: int) -> StoredLifecycle | None:
        row = await self._db.fetchrow(Q.get_case_lifecycle, case_id)
        return None if row is None else StoredLifecycle.from_row(row)

    async def debtors_of(self, case_id: int) -> list[Debtor]:
        return [Debtor(int(d["id"]), d["kind"], d["id_number"], d["name"])
                for d in await self._db.fetch(Q.debtors_of_case, case_id)]

    async def search_facts_of(self, case_id: int) -> list[SearchFactRow]:
        return [SearchFactRow.from_row(r) for r in await self._db.fetch(Q.search_facts_of_case, case_id)]

    async def live_controls_of(self, case_id: int) -> list[LiveControlRow]:
        """The case's freezes and seals in force (the closure checklist lists them to keep or release)."""
        return [LiveControlRow.from_row(r) for r in await self._db.fetch(Q.live_controls_of_case, case_id)]

    async def renewal_notice_days_of(self, court_code: str) -> int | None:
        """The court's own renewal notice days (None: the deployment's setting holds)."""
        value = await self._db.fetchval(Q.court_notice_days_for_closure, court_code)
        return None if value is None else int(value)

    async def restriction_orders_of(self, subject_kind: str, id_number: str, case_id: int) -> list[RestrictionOrder]:
        """The orders of case ``case_id`` binding the subject (as its debtor, or as a responsible
        person of its organization debtor)."""
        return await restriction_orders_on(self._db, subject_kind, id_number, case_id)

    async def hotel_stays_of(self, subject_keys: Sequence[str], case_id: int) -> list[HotelStayRow]:
        """The hotel stays held about these subjects from searches of case ``case_id`` only."""
        return [HotelStayRow.from_row(r)
                for r in await self._db.fetch(Q.hotel_stays_of_subjects, list(subject_keys), case_id)]

    async def responsible_persons_of(self, case_id: int) -> list[ResponsiblePersonRow]:
        """The responsible persons of the case's organization debtors, once per person."""
        return [ResponsiblePersonRow(r["id_number"], r["name"])
                for r in await self._db.fetch(Q.responsible_persons_of_case, case_id)]


class LifecycleTx(LifecycleReads):
    """One open transaction of the lifecycle (from ``LifecycleStore.transaction``)."""

    def __init__(self, conn: Conn, audit: AuditLog | None) -> None:
        super().__init__(conn)
        self._conn = conn
        self._audit = audit

    async def lock_case(self, case_id: int) -> LifecycleCase | None:
        """The case, locked (``FOR UPDATE``) until the transaction ends; None if there is none."""
        row = await self._conn.fetchrow(Q.lock_case_for_lifecycle, case_id)
        return None if row is None else LifecycleCase.from_row(row)

    async def event_by_external_id(self, case_id: int, external_id: str) -> StoredEvent | None:
        row = await self._conn.fetchrow(Q.event_by_external_id, case_id, external_id)
        return None if row is None else StoredEvent.from_row(row)

    async def insert_event(self, case_id: int, event_type: str, occurred_on: date, data: dict[str, Any],
                           source: str, external_id: str | None) -> StoredEvent:
        row = await self._conn.fetchrow(Q.insert_case_event, case_id, event_type, occurred_on, data, source,
                                        external_id)
        assert row is not None
        return StoredEvent.from_row(row)

    async def upsert_lifecycle(self, case_id: int, v: LifecycleValues) -> None:
        await self._conn.execute(Q.upsert_case_lifecycle, case_id, v.filed_on, v.non_litigation, v.base_months,
                                 v.extension_months, v.extension_days, v.suspended_days, v.suspended_since,
                                 v.deadline, v.settlement_performed, v.resumed_on, v.params,
                                 list(v.late_extensions))

    async def set_closure_verdict(self, case_id: int, *, qualified: bool, missing: Sequence[str],
                                  override_by: str | None, override_reason: str | None) -> None:
        await self._conn.execute(Q.set_closure_verdict, case_id, qualified, list(missing), override_by,
                                 override_reason)

    async def set_requery_for(self, case_id: int, closed_on: date | None) -> None:
        await self._conn.execute(Q.set_requery_for, case_id, closed_on)

    async def update_case_status(self, case_id: int, *, status: str, closure_mode: str | None,
                                 closed_on: date | None, amount_recovered: Decimal | None) -> None:
        await self._conn.execute(Q.update_case_status, case_id, status, closure_mode, closed_on, amount_recovered)

    async def schedule_rounds(self, case_id: int, closed_on: date, rounds: Sequence[PlannedRound]) -> None:
        """Pending rounds of another closure date go; these are added (rounds already there are kept)."""
        await self._conn.execute(Q.drop_pending_rounds_of_other_closure, case_id, closed_on)
        if rounds:
            await self._conn.execute(Q.insert_requery_rounds, case_id, [r.party_id for r in rounds],
                                     [r.round for r in rounds], closed_on, [r.due_on for r in rounds],
                                     [r.run_on for r in rounds])

    async def cancel_pending_rounds(self, case_id: int) -> None:
        await self._conn.execute(Q.cancel_pending_rounds, case_id)

    async def resolve_alerts(self, case_id: int, kinds: Sequence[str], by: str) -> None:
        await resolve_case_alerts_on(self._conn, case_id, kinds, by)

    async def raise_alert(self, alert: NewAlert) -> bool:
        """Insert once per dedupe key; True when created now."""
        return await raise_alert_on(self._conn, alert)

    async def audit(self, entry: AuditEntry) -> None:
        """An audit record in this transaction (a supervisor's override)."""
        if self._audit is None:
            raise ValueError("an audit entry needs a LifecycleStore built with the audit log")
        await self._audit.append(self._conn, entry)


class LifecycleStore(LifecycleReads):
    """The lifecycle's store: reads on the pool; ``transaction()`` for what must commit together."""

    def __init__(self, pool: asyncpg.Pool, audit: AuditLog | None = None) -> None:
        super().__init__(pool)
        self.pool = pool
        self.audit_log = audit

    @property
    def audits(self) -> bool:
        """Whether the store writes audit records (built with the audit log)."""
        return self.audit_log is not None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[LifecycleTx]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield LifecycleTx(conn, self.audit_log)

    async def case_id_for_number(self, case_number: str) -> int | None:
        """The case a number names, however it is written (full-width, brackets, spaces, leading
        zeros: ``case_number_key``); None for no case or a text that is not a case number."""
        try:
            key = case_number_key(case_number)
        except CaseRejected:
            return None
        value = await self.pool.fetchval(Q.case_id_for_number, key)
        return None if value is None else int(value)

    async def rounds_of_case(self, case_id: int) -> list[RoundRow]:
        return [RoundRow.from_row(r) for r in await self.pool.fetch(Q.requery_rounds_of_case, case_id)]

    async def stale_cases(self, court_code: str | None, params: str, limit: int) -> list[int]:
        return [int(r["id"]) for r in await self.pool.fetch(Q.lifecycle_stale_cases, court_code, params, limit)]


__all__ = [
    "HotelStayRow", "LifecycleCase", "LifecycleReads", "LifecycleStore", "LifecycleTx", "LifecycleValues",
    "PlannedRound", "ResponsiblePersonRow", "RoundRow", "SearchFactRow", "StoredEvent", "StoredLifecycle",
]
