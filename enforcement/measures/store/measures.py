"""Measures: created with their 协助执行通知书 number (one transaction: the serial, the duplicate
check, the row), claimed under a lease by the dispatcher, waiting with the agency's ticket when
the agency answers later (polled when due, leased the same way), answered (with the answer's effect on
the control it follows, and a deduction's recovered amount on the case, in the same
transaction), and swept for renewals due and lapses.

Callers get frozen values (``Measure``, ``MeasureCase``, ``FoundAsset``), never driver rows. The
SQL is in ``sql/measures.sql``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from enforcement.domain.audit import AuditEntry
from enforcement.domain.authorization import CaseAccess
from enforcement.domain.measures import MeasureConflict, assistance_notice_number
from enforcement.kernel.audit import AuditLog, Conn
from enforcement.kernel.queries import Q


@dataclass(frozen=True, slots=True)
class MeasureCase:
    id: int
    case_number: str
    court_code: str
    status: str
    judge_login: str | None
    judge_name: str
    judge_officer_id: str
    closure_mode: str | None = None
    approval_above: Decimal | None = None  # the court's own deduction approval amount (None: the setting)
    notice_days: int | None = None  # the court's own renewal notice days (None: the setting)

    @property
    def access(self) -> CaseAccess:
        return CaseAccess(self.id, self.court_code, self.judge_login, self.status, self.closure_mode)


@dataclass(frozen=True, slots=True)
class FoundAsset:
    """An asset a search of the case found: its latest record and the subject it belongs to."""

    asset_kind: str
    natural_key: str
    agency: str
    data: dict[str, Any]
    subject_kind: str
    subject_id_number: str
    subject_name: str


@dataclass(frozen=True, slots=True)
class Measure:
    id: int
    case_id: int
    parent_id: int | None
    kind: str
    asset_kind: str
    agency: str
    target_key: str
    target: str
    subject_kind: str
    subject_id_number: str
    subject_name: str
    amount: Decimal | None
    asked_until: date | None
    ruling_number: str
    ruled_on: date
    document_number: str
    case_number: str
    court_code: str
    judge_login: str
    judge_name: str
    judge_officer_id: str
    requested_by: str
    idempotency_key: str
    request_no: str
    status: str
    task_status: str
    attempts: int
    deadline_at: datetime
    last_error: str | None
    reference: str | None
    effect_amount: Decimal | None
    queue_position: int | None
    transfer_reference: str | None
    refusal_code: str | None
    refusal_reason: str | None
    answered_at: datetime | None
    starts_on: date | None
    expires_on: date | None
    created_at: datetime
    updated_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    parent_reference: str | None = None
    past_deadline: bool = False
    agency_ticket: str | None = None  # the agency accepted the control for processing: poll this
    # Its court's own renewal notice days (None: the deployment's setting); read with the measure
    # where it is shown (get, a case's measures, the lists across cases), not where it is claimed.
    court_notice_days: int | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Measure:
        values = {name: row[name] for name in cls.__slots__ if name in row}
        return cls(**values)


@dataclass(frozen=True, slots=True)
class ListedMeasure:
    """A measure in a list across cases: its state there (due, lapsed, awaiting_approval, live),
    the kind of a follow-up of it still pending (a renewal submitted, say), if any, and its case as
    it is now (judge, status, closure: what ``measure_permissions`` decides by), read in the same
    statement."""

    measure: Measure
    state: str
    pending_follow_up: str | None
    case: CaseAccess

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> ListedMeasure:
        return cls(Measure.from_row(row), row["listed_state"], row["pending_follow_up"],
                   CaseAccess(int(row["case_id"]), row["case_court_code"], row["case_judge_login"], row["case_status"],
                              row["case_closure_mode"]))


@dataclass(frozen=True, slots=True)
class NewMeasure:
    case_id: int
    parent_id: int | None
    kind: str
    asset_kind: str
    agency: str
    target_key: str
    target: str
    subject_kind: str
    subject_id_number: str
    subject_name: str
    amount: Decimal | None
    asked_until: date | None
    ruling_number: str
    ruled_on: date
    case_number: str
    court_code: str
    judge_login: str
    judge_name: str
    judge_officer_id: str
    requested_by: str
    idempotency_key: str
    request_no: str
    deadline_seconds: float
    held: bool = False  # a deduction above the court's set amount: held until a supervisor approves it


@dataclass(frozen=True, slots=True)
class Answer:
    """What the dispatcher keeps of an agency's answer."""

    status: str  # active | partial | refused | done
    reference: str | None
    effect_amount: Decimal | None
    queue_position: int | None
    transfer_reference: str | None
    refusal_code: str | None
    refusal_reason: str | None
    answered_at: datetime
    starts_on: date | None
    expires_on: date | None


@dataclass(frozen=True, slots=True)
class ExpiryRow:
    id: int
    case_id: int
    kind: str
    agency: str
    target_key: str
    expires_on: date
    case_status: str = "open"
    closure_mode: str | None = None


def _duplicate(measure_id: int) -> MeasureConflict:
    return MeasureConflict(f"The same measure is already in force or pending (measure {measure_id}).",
                           message_zh=f"该财产已有本案在办或生效的同类控制措施（措施{measure_id}），不得重复采取",
                           code="duplicate_measure", measure_id=measure_id)


class MeasureStore:
    def __init__(self, pool: asyncpg.Pool, audit: AuditLog) -> None:
        self.pool = pool
        self.audit = audit

    async def case(self, case_id: int) -> MeasureCase | None:
        row = await self.pool.fetchrow(Q.measure_case, case_id)
        if row is None:
            return None
        return MeasureCase(int(row["id"]), row["case_number"], row["court_code"], row["status"], row["judge_login"],
                           row["judge_name"], row["judge_officer_id"], row["closure_mode"], row["approval_above"],
                           row["notice_days"])

    async def court_notice_days(self, court_code: str) -> int | None:
        """The court's own renewal notice days (None: it set none, the deployment's setting holds)."""
        value = await self.pool.fetchval(Q.court_renewal_notice_days, court_code)
        return None if value is None else int(value)

    async def found_asset(self, case_id: int, asset_kind: str, natural_key: str) -> FoundAsset | None:
        row = await self.pool.fetchrow(Q.measure_target, case_id, asset_kind, natural_key)
        if row is None:
            return None
        return FoundAsset(row["kind"], row["natural_key"], row["agency"], dict(row["data"]), row["subject_kind"],
                          row["subject_id_number"], row["subject_name"])

    async def frozen_by_case(self, case_id: int, agency: str, target_key: str) -> Decimal:
        return Decimal(await self.pool.fetchval(Q.frozen_by_others, case_id, agency, target_key))

    async def get(self, measure_id: int) -> Measure | None:
        row = await self.pool.fetchrow(Q.get_measure, measure_id)
        return None if row is None else Measure.from_row(row)

    async def of_case(self, case_id: int) -> list[Measure]:
        return [Measure.from_row(r) for r in await self.pool.fetch(Q.measures_of_case, case_id)]

    async def listed(self, court_code: str | None, judge_login: str | None, state: str | None, today: date,
                     notice_days: int, limit: int) -> list[ListedMeasure]:
        """Measures across the cases of a court (and of one judge): renewals due (by each measure's
        court's notice days, else ``notice_days``), lapses, deductions awaiting approval (``state``
        None: all three), or every live control (``live``)."""
        rows = await self.pool.fetch(Q.measures_listed, court_code, judge_login, state, today, notice_days, limit)
        return [ListedMeasure.from_row(r) for r in rows]

    async def create(self, new: NewMeasure, audit_entry: AuditEntry) -> Measure:
        """The new measure: one transaction refuses a duplicate (``MeasureConflict``
        duplicate_measure: the same act already made, another live control of the asset, or a
        pending follow-up of the control), takes the court's notice serial, and writes the row and
        its audit record. A refused duplicate takes no serial."""
        async with self.pool.acquire() as conn, conn.transaction():
            same = await conn.fetchrow(Q.measure_by_key, new.idempotency_key)
            if same is not None and same["status"] in ("awaiting_approval", "pending", "active", "partial", "done"):
                raise _duplicate(int(same["id"]))
            if new.parent_id is None:
                other = await conn.fetchval(Q.live_control, new.case_id, new.agency, new.target_key)
            else:
                other = await conn.fetchval(Q.pending_follow_up, new.parent_id)
            if other is not None:
                raise _duplicate(int(other))
            serial = _one(await conn.fetchrow(Q.next_measure_serial, new.court_code))
            document = assistance_notice_number(new.court_code, int(serial["year"]), int(serial["last"]))
            key = new.idempotency_key if same is None else f"{new.idempotency_key}:{same['id']}"
            try:
                async with conn.transaction():
                    row = _one(await conn.fetchrow(
                        Q.insert_measure, new.case_id, new.parent_id, new.kind, new.asset_kind, new.agency,
                        new.target_key, new.target, new.subject_kind, new.subject_id_number, new.subject_name,
                        new.amount, new.asked_until, new.ruling_number, new.ruled_on, document, new.case_number,
                        new.court_code, new.judge_login, new.judge_name, new.judge_officer_id, new.requested_by,
                        key, new.request_no, new.deadline_seconds, new.held))
            except asyncpg.UniqueViolationError:
                raise _duplicate(0) from None
            entry = AuditEntry(**{**_entry_fields(audit_entry), "target": f"measure:{row['id']}",
                                  "details": {**audit_entry.details, "notice_number": document,
                                              "measure_id": int(row["id"])}})
            await self.audit.append(conn, entry)
            await conn.execute("SELECT pg_notify('measure_tasks', '')")
            return Measure.from_row(_one(await conn.fetchrow(Q.get_measure, row["id"])))

    async def approve(self, measure_id: int, approver: str, deadline_seconds: float,
                      audit_entry: AuditEntry) -> Measure | None:
        """Release a held deduction to its agency (queued now, its deadline counted from now) and
        audit the approval, in one transaction. None: it was not awaiting approval (approved
        already, or never held)."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(Q.approve_measure, measure_id, approver, deadline_seconds)
            if row is None:
                return None
            await self.audit.append(conn, audit_entry)
            await conn.execute("SELECT pg_notify('measure_tasks', '')")
            return Measure.from_row(_one(await conn.fetchrow(Q.get_measure, measure_id)))

    async def cancel_held(self, measure_id: int, status: str, by: str, reason: str | None,
                          audit_entry: AuditEntry) -> Measure | None:
        """A held deduction rejected (``status`` rejected) or withdrawn (withdrawn), audited, in one
        transaction: its task is cancelled and never claimed. None: it was not awaiting approval
        (approved, rejected or withdrawn a moment ago)."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(Q.cancel_held_measure, measure_id, status, by, reason)
            if row is None:
                return None
            await self.audit.append(conn, audit_entry)
            await conn.execute("SELECT pg_notify('measure_events', $1)", str(measure_id))
            return Measure.from_row(_one(await conn.fetchrow(Q.get_measure, measure_id)))

    async def claim(self, worker: str, batch: int, lease_seconds: float) -> list[Measure]:
        return [Measure.from_row(r) for r in await self.pool.fetch(Q.claim_measures, worker, batch, lease_seconds)]

    async def answer(self, measure: Measure, worker: str, answer: Answer) -> Measure | None:
        """Keep the answer (only while ``worker`` holds the lease) and its effect on the control it
        follows: a renewal's new expiry, a release's end, a deduction's smaller freeze and the
        case's recovered amount. None: the lease was lost (another worker keeps the answer)."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                Q.answer_measure, measure.id, worker, answer.status, answer.reference, answer.effect_amount,
                answer.queue_position, answer.transfer_reference, answer.refusal_code, answer.refusal_reason,
                answer.answered_at, answer.starts_on, answer.expires_on)
            if row is None:
                return None
            answered_alerts: list[str] = []  # the dedupe keys of the control's alerts this answer may answer
            if answer.status == "done" and measure.parent_id is not None:
                if measure.kind in ("renew", "release"):
                    expiry = await conn.fetchval(Q.control_expiry, measure.parent_id)
                    if expiry is not None:
                        answered_alerts = [f"measure_renewal_due:{measure.parent_id}:{expiry.isoformat()}"]
                        if measure.kind == "release":
                            answered_alerts.append(f"measure_lapsed:{measure.parent_id}:{expiry.isoformat()}")
                if measure.kind == "renew" and answer.expires_on is not None:
                    await conn.execute(Q.renew_control, measure.parent_id, answer.expires_on)
                elif measure.kind == "release":
                    await conn.execute(Q.release_control, measure.parent_id)
                elif measure.kind == "deduct" and answer.effect_amount is not None:
                    await conn.execute(Q.deduct_from_control, measure.parent_id, answer.effect_amount)
                    data = {"amount": f"{answer.effect_amount:.2f}", "transfer_reference": answer.transfer_reference,
                            "measure_id": measure.id, "document_number": measure.document_number}
                    await conn.execute(Q.record_recovery, measure.case_id, answer.answered_at.date(),
                                       data, f"measure:{measure.id}")
            # The control's alerts this answer answers, resolved in its transaction (decision 1706).
            resolved: list[asyncpg.Record] = []
            if answered_alerts:
                resolved = await conn.fetch(Q.resolve_control_alerts_by_key, answered_alerts)
            elif measure.kind in ("freeze", "seal") and answer.status in ("active", "partial"):
                resolved = await conn.fetch(Q.resolve_lapse_alerts_of_asset, measure.case_id, measure.agency,
                                            measure.target_key, measure.id)
            await _audit_resolved(conn, self.audit, resolved, {"follow_up": {
                "id": measure.id, "kind": measure.kind, "notice_number": measure.document_number}})
            await conn.execute("SELECT pg_notify('measure_events', $1)", str(measure.id))
            return Measure.from_row(_one(await conn.fetchrow(Q.get_measure, measure.id)))

    async def wait(self, measure_id: int, worker: str, ticket: str, poll_in_seconds: float,
                   answer_within_seconds: float) -> bool:
        """The agency accepted the control for processing: the task waits, with the agency's ticket
        kept, and is polled in ``poll_in_seconds`` (only while ``worker`` holds the lease). The first
        acceptance moves the deadline out to ``answer_within_seconds`` from now (the agency's own
        time to answer). False: the lease was lost."""
        row = await self.pool.fetchval(Q.wait_measure, measure_id, worker, ticket, poll_in_seconds,
                                       answer_within_seconds)
        return row is not None

    async def retry(self, measure_id: int, worker: str, delay_seconds: float, error: str) -> None:
        await self.pool.execute(Q.retry_measure, measure_id, worker, delay_seconds, error[:500])

    async def fail(self, measure_id: int, worker: str, error: str) -> None:
        await self.pool.execute(Q.fail_measure, measure_id, worker, error[:500])

    async def renewals_due(self, today: date, notice_days: int) -> list[ExpiryRow]:
        """Live controls whose renewal is due: within their court's notice days, else ``notice_days``."""
        return [_expiry(r) for r in await self.pool.fetch(Q.renewals_due, today, notice_days)]

    async def lapse(self, today: date) -> list[tuple[ExpiryRow, bool]]:
        """Live controls past their expiry lapse, each with its lapse alert raised (once per control
        and expiry) and the renewal-due alert it replaces resolved by the system, audited naming the
        lapse: one transaction, set statements over the day's controls (no statement per control),
        so a crash leaves the controls live and the next tick lapses and alerts them. Each lapsed
        control, and whether its lapse alert was raised now."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(Q.lapse_measures, today)
            lapses = {f"measure_renewal_due:{r['id']}:{r['expires_on'].isoformat()}": r
                      for r in rows if r["alert_id"] is not None}
            if lapses:
                resolved = await conn.fetch(Q.resolve_renewal_alerts_of_lapse, list(lapses))
                await self.audit.append_many(conn, [AuditEntry(
                    action="alert_resolved", actor_login="system", actor_role="system", case_id=int(r["case_id"]),
                    target=f"alert:{r['id']}", details={"alert_kind": r["kind"], "lapse": {
                        "alert_id": int(lapses[r["dedupe_key"]]["alert_id"]),
                        "measure_id": int(lapses[r["dedupe_key"]]["id"]),
                        "expired_on": lapses[r["dedupe_key"]]["expires_on"].isoformat()}})
                    for r in resolved])
        return [(_expiry(r), r["alert_id"] is not None) for r in rows]

    async def raise_alert(self, kind: str, row: ExpiryRow, evidence: dict[str, Any]) -> bool:
        """A renewal-due alert on the case (the cases feature's alerts), once per control and expiry:
        one statement, no transaction (10,000 renewals due on a day). Lapse alerts are raised with
        the lapse (``lapse``)."""
        if kind == "measure_lapsed":
            raise ValueError("a lapse alert is raised with the lapse, in its transaction")
        return await self.pool.fetchval(Q.raise_measure_alert, kind, f"{kind}:{row.id}:{row.expires_on.isoformat()}",
                                        row.case_id, row.expires_on, evidence) is not None

    async def resolve_answered_alerts(self) -> int:
        """Resolve every open renewal-due or lapse alert its control no longer asks for (one
        answered before this rule, or through a path that kept no answer here), audited; how many."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(Q.resolve_control_alerts)
            for r in rows:
                await _audit_resolved(conn, self.audit, [r], {"follow_up": {
                    "id": int(r["follow_up_id"]), "kind": r["follow_up_kind"], "notice_number": r["follow_up_notice"]}})
            return len(rows)

    async def gauges(self, today: date, notice_days: int) -> tuple[int, int]:
        """(due, lapsed) live controls; due by their court's notice days, else ``notice_days``."""
        row = _one(await self.pool.fetchrow(Q.measure_gauges, today, notice_days))
        return int(row["due"]), int(row["lapsed"])

    async def record_refusal(self, entry: AuditEntry) -> None:
        await self.audit.record(self.pool, entry)


async def _audit_resolved(conn: Conn, audit: AuditLog, rows: list[asyncpg.Record],
                          answered_by: dict[str, Any]) -> None:
    """One audit record per alert the system resolved, naming what answered it (``follow_up``: the
    measure; ``lapse``: the lapse alert that took its place), in the caller's transaction
    (decision 1706)."""
    await audit.append_many(conn, [AuditEntry(
        action="alert_resolved", actor_login="system", actor_role="system", case_id=int(r["case_id"]),
        target=f"alert:{r['id']}", details={"alert_kind": r["kind"], **answered_by}) for r in rows])


def _one(row: asyncpg.Record | None) -> asyncpg.Record:
    """A row the statement always returns."""
    if row is None:
        raise RuntimeError("the statement returned no row")
    return row


def _entry_fields(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in AuditEntry.__dataclass_fields__}


def _expiry(r: asyncpg.Record) -> ExpiryRow:
    keys = r.keys()
    return ExpiryRow(int(r["id"]), int(r["case_id"]), r["kind"], r["agency"], r["target_key"], r["expires_on"],
                     r["case_status"] if "case_status" in keys else "open",
                     r["closure_mode"] if "closure_mode" in keys else None)


__all__ = ["Answer", "ExpiryRow", "FoundAsset", "ListedMeasure", "Measure", "MeasureCase", "MeasureStore", "NewMeasure"]
