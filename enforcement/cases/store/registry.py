"""The case registry: cases as the courts' case-management systems push them, idempotent by case
number, and read back with their parties, events and searches.

``CaseRegistry`` owns its transactions (one per push; one per chunk of an import, a savepoint per
row) and returns frozen values (``CaseRecord``, ``EventRecord``, ``CaseSearch``,
``PushConflict``, ``Upserted``), never driver rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import asyncpg

from enforcement.domain.audit import AuditEntry
from enforcement.domain.cases import (
    CaseInput,
    CaseRejected,
    FieldConflict,
    RecordedState,
    case_number_key,
    state_after_push,
)
from enforcement.kernel.audit import AuditLog, Conn
from enforcement.kernel.queries import Q

Outcome = Literal["created", "updated", "unchanged"]
CHUNK_ROWS = 500  # rows per transaction in an import


@dataclass(frozen=True, slots=True)
class Upserted:
    case_id: int
    outcome: Outcome
    conflicts: tuple[FieldConflict, ...] = ()  # where the push contradicted the events (not applied)
    conflict_id: int | None = None  # the case_push_conflict row keeping it for review


@dataclass(frozen=True, slots=True)
class RowResult:
    """One row of an import: stored (``upserted``) or refused (``rejected``)."""

    line: int
    case_number: str
    upserted: Upserted | None = None
    rejected: CaseRejected | None = None


@dataclass(frozen=True, slots=True)
class Responsible:
    """A person an organization debtor's consumption restriction binds, as stored."""

    name: str
    id_number: str
    role: str  # 法定代表人 | 主要负责人 | 直接责任人员

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "id_number": self.id_number, "role": self.role}


@dataclass(frozen=True, slots=True)
class Party:
    """A party of a case as stored: ``role`` applicant or debtor; an organization debtor with the
    persons its consumption restriction binds."""

    role: str
    kind: str
    id_number: str
    name: str
    responsible: tuple[Responsible, ...] = ()

    @classmethod
    def from_row(cls, p: Any) -> Party:
        return cls(str(p["role"]), str(p["kind"]), str(p["id_number"]), str(p["name"]),
                   tuple(Responsible(str(r["name"]), str(r["id_number"]), str(r["role"]))
                         for r in (p.get("responsible_persons") or ())))


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case as ``list_cases`` and ``get_case_detail`` read it: parties, judge, statutory deadline."""

    id: int
    case_number: str
    case_number_as_written: str
    court_code: str
    court_name: str
    case_type: str
    judge_login: str | None
    judge_name: str | None
    judge_officer_id: str | None
    applicant_name: str
    cause: str
    amount_to_enforce: Decimal
    amount_recovered: Decimal
    non_litigation: bool
    filed_on: date
    status: str
    closure_mode: str | None
    closed_on: date | None
    statutory_deadline: date | None
    overdue: bool
    created_at: datetime
    updated_at: datetime
    parties: tuple[Party, ...] = ()

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> CaseRecord:
        return cls(
            id=int(r["id"]), case_number=r["case_number"],
            case_number_as_written=r["case_number_as_written"] or r["case_number"], court_code=r["court_code"],
            court_name=r["court_name"], case_type=r["case_type"], judge_login=r["judge_login"],
            judge_name=r["judge_name"], judge_officer_id=r["judge_officer_id"], applicant_name=r["applicant_name"],
            cause=r["cause"], amount_to_enforce=r["amount_to_enforce"], amount_recovered=r["amount_recovered"],
            non_litigation=bool(r["non_litigation"]), filed_on=r["filed_on"], status=r["status"],
            closure_mode=r["closure_mode"], closed_on=r["closed_on"], statutory_deadline=r["statutory_deadline"],
            overdue=bool(r["overdue"]), created_at=r["created_at"], updated_at=r["updated_at"],
            parties=tuple(Party.from_row(p) for p in (r["parties"] or [])),
        )


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A lifecycle event of a case as stored."""

    id: int
    event_type: str
    occurred_on: date
    data: dict[str, Any]
    source: str
    recorded_at: datetime

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> EventRecord:
        return cls(int(r["id"]), r["event_type"], r["occurred_on"], r["data"] if isinstance(r["data"], dict) else {},
                   r["source"], r["recorded_at"])


@dataclass(frozen=True, slots=True)
class CaseSearch:
    """A search made for a case, with how many agencies it asked and how many answered."""

    id: UUID
    subject_kind: str
    subject_id_number: str
    subject_name: str
    purpose: str
    status: str
    requested_by: str
    created_at: datetime
    completed_at: datetime | None
    agencies: int
    answered: int

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> CaseSearch:
        return cls(r["id"], r["subject_kind"], r["subject_id_number"], r["subject_name"], r["purpose"], r["status"],
                   r["requested_by"], r["created_at"], r["completed_at"], int(r["agencies"]), int(r["answered"]))


@dataclass(frozen=True, slots=True)
class PushConflict:
    """A push that contradicted the case's events, kept for review."""

    id: int
    case_id: int
    case_number: str
    court_code: str
    fields: Any  # [{field, pushed, recorded}] as stored
    pushed_by: str
    first_seen_at: datetime
    last_seen_at: datetime
    times: int
    resolved_at: datetime | None

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> PushConflict:
        return cls(int(r["id"]), int(r["case_id"]), r["case_number"], r["court_code"], r["fields"], r["pushed_by"],
                   r["first_seen_at"], r["last_seen_at"], int(r["times"]), r["resolved_at"])


@dataclass(frozen=True, slots=True)
class CaseFilter:
    court_code: str | None = None
    judge_login: str | None = None
    status: str | None = None
    filed_from: date | None = None
    filed_to: date | None = None
    overdue: bool | None = None
    limit: int = 50
    offset: int = 0
    text: str | None = None       # part of a case number, a party's name or ID number
    order: str = "urgency"        # one of CASE_ORDERS


# How a case list may be sorted; urgency (furthest past the statutory deadline, then the larger
# amount) is the default: the case that most needs the judge comes first.
CASE_ORDERS = ("urgency", "filed_desc", "filed_asc", "amount_desc", "deadline_asc", "case_number")


def like_pattern(text: str) -> str:
    """``%text%`` for ILIKE with the pattern characters of ``text`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def _check_judge(conn: Conn, case: CaseInput) -> None:
    """The judge the case system names: provisioned if new; an existing login must be an active judge
    of the case's court."""
    if case.judge is None:
        return
    row = await conn.fetchrow(Q.user_by_login, case.judge.login)
    if row is None:
        await conn.execute(Q.provision_judge, case.judge.login, case.judge.name, case.court_code,
                           case.judge.officer_id)
        return
    if row["role"] != "judge":
        raise CaseRejected("judge_not_a_judge", "judge/login", "The login named as judge is not a judge.",
                           "指定的承办人账号不是执行法官")
    if row["court_code"] != case.court_code:
        raise CaseRejected("judge_other_court", "judge/login", "The judge belongs to another court.",
                           "承办法官不属于该法院")
    if not row["active"]:
        raise CaseRejected("judge_inactive", "judge/login", "The judge's account is deactivated.",
                           "承办法官账号已停用")


def _recorded(row: asyncpg.Record) -> RecordedState:
    closure = (str(row["ev_closure_mode"]), row["ev_closed_on"]) if row["ev_closed_on"] is not None else None
    amount = row["ev_amount_recovered"]
    return RecordedState(closure, row["ev_suspended"],
                         None if amount is None else Decimal(amount).quantize(Decimal("0.01")))


async def upsert_case(conn: Conn, case: CaseInput, pushed_by: str) -> Upserted:
    """Insert or update one case and make its parties exactly those given; caller holds a transaction.

    The case is found by its number's key (``case_number_key``: every way of writing one number).
    An existing case takes the push's filing-time fields; its state follows ``state_after_push``:
    what the events recorded stays, a push contradicting it is kept in ``case_push_conflict``."""
    if not await conn.fetchval(Q.court_exists, case.court_code):
        raise CaseRejected("unknown_court", "court_code", "No such court.", "法院不存在")
    await _check_judge(conn, case)
    judge = case.judge.login if case.judge else None
    key = case_number_key(case.case_number)
    conflicts: tuple[FieldConflict, ...] = ()
    conflict_id: int | None = None
    row = await conn.fetchrow(Q.lock_case_by_key, key)
    new_id = None
    if row is None:
        new_id = await conn.fetchval(
            Q.insert_case, case.case_number, case.case_number_as_written or case.case_number, case.court_code,
            case.case_type, judge, case.applicant.name, case.cause, case.amount_to_enforce, case.amount_recovered,
            case.non_litigation, case.filed_on, case.status, case.closure_mode, case.closed_on, pushed_by)
        if new_id is None:  # a concurrent push of the same number won
            row = await conn.fetchrow(Q.lock_case_by_key, key)
            assert row is not None
    outcome: Outcome
    if new_id is not None:
        case_id, outcome = int(new_id), "created"
    else:
        assert row is not None
        case_id = int(row["id"])
        state, conflicts = state_after_push(case, _recorded(row))
        changed = await conn.fetchval(
            Q.update_pushed_case, case_id, judge, case.applicant.name, case.cause, case.amount_to_enforce,
            state.amount_recovered, case.non_litigation, case.filed_on, state.status, state.closure_mode,
            state.closed_on, pushed_by)
        outcome = "updated" if changed is not None else "unchanged"
        if conflicts:
            conflict_id = int(await conn.fetchval(Q.record_push_conflict, case_id, case.court_code,
                                                  [c.to_dict() for c in conflicts], pushed_by))
    parties = [("applicant", case.applicant), *(("debtor", d) for d in case.debtors)]
    changed_parties = await conn.fetchval(
        Q.sync_case_parties, case_id,
        [r for r, _ in parties], [p.kind for _, p in parties], [p.id_number for _, p in parties],
        [p.name for _, p in parties],
    )
    changed_responsible = await conn.fetchval(
        Q.sync_responsible_persons, case_id, [r.debtor_id_number for r in case.responsible],
        [r.person.id_number for r in case.responsible], [r.person.name for r in case.responsible],
        [r.role for r in case.responsible])
    if outcome == "unchanged" and (changed_parties or changed_responsible):
        outcome = "updated"
    return Upserted(case_id, outcome, conflicts, conflict_id)


class CaseRegistry:
    """The registry's store: pushes (each in its own transaction), reads, and the audit record of
    an import's refused rows."""

    def __init__(self, pool: asyncpg.Pool, audit: AuditLog) -> None:
        self.pool = pool
        self.audit = audit

    async def push(self, case: CaseInput, pushed_by: str) -> Upserted:
        """One case in its own transaction; raises ``CaseRejected`` (unknown court, bad judge)."""
        async with self.pool.acquire() as conn, conn.transaction():
            return await upsert_case(conn, case, pushed_by)

    async def push_many(self, rows: Sequence[tuple[int, CaseInput]], pushed_by: str) -> list[RowResult]:
        """Every row in a savepoint of its own, so a refused row never takes good rows with it."""
        results: list[RowResult] = []
        async with self.pool.acquire() as conn:
            for start in range(0, len(rows), CHUNK_ROWS):
                async with conn.transaction():
                    for line, case in rows[start:start + CHUNK_ROWS]:
                        try:
                            async with conn.transaction():
                                done = await upsert_case(conn, case, pushed_by)
                        except CaseRejected as exc:
                            results.append(RowResult(line, case.case_number, rejected=exc))
                        else:
                            results.append(RowResult(line, case.case_number, upserted=done))
        return results

    async def record_audit(self, entry: AuditEntry) -> None:
        """An audit record in its own transaction (an import's refused rows)."""
        await self.audit.record(self.pool, entry)

    async def find(self, f: CaseFilter) -> tuple[list[CaseRecord], int]:
        rows = await self.pool.fetch(Q.list_cases, f.court_code, f.judge_login, f.status, f.filed_from, f.filed_to,
                                     f.overdue, f.limit, f.offset,
                                     like_pattern(f.text) if f.text else None, f.order)
        total = int(rows[0]["total"]) if rows else 0
        return [CaseRecord.from_row(r) for r in rows], total

    async def get(self, case_id: int) -> CaseRecord | None:
        row = await self.pool.fetchrow(Q.get_case_detail, case_id)
        return None if row is None else CaseRecord.from_row(row)

    async def events(self, case_id: int) -> list[EventRecord]:
        return [EventRecord.from_row(r) for r in await self.pool.fetch(Q.case_events_of, case_id)]

    async def push_conflicts(self, court_code: str | None, limit: int, offset: int) -> tuple[list[PushConflict], int]:
        rows = await self.pool.fetch(Q.list_push_conflicts, court_code, limit, offset)
        return [PushConflict.from_row(r) for r in rows], (int(rows[0]["total"]) if rows else 0)

    async def searches(self, case_id: int, limit: int = 200) -> list[CaseSearch]:
        return [CaseSearch.from_row(r) for r in await self.pool.fetch(Q.case_searches_of, case_id, limit)]


__all__ = ["CASE_ORDERS", "CaseFilter", "CaseRecord", "CaseRegistry", "CaseSearch", "EventRecord", "Party",
           "PushConflict", "Responsible", "RowResult", "Upserted", "like_pattern", "upsert_case"]
