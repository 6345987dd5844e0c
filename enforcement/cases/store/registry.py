"""The case registry: cases as the courts' case-management systems push them, idempotent by case
number, and read back with their parties, events and searches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import asyncpg

from enforcement.domain.cases import (
    CaseInput,
    CaseRejected,
    FieldConflict,
    RecordedState,
    case_number_key,
    state_after_push,
)
from enforcement.kernel.audit import Conn
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
class CaseFilter:
    court_code: str | None = None
    judge_login: str | None = None
    status: str | None = None
    filed_from: date | None = None
    filed_to: date | None = None
    overdue: bool | None = None
    limit: int = 50
    offset: int = 0


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
    if outcome == "unchanged" and changed_parties:
        outcome = "updated"
    return Upserted(case_id, outcome, conflicts, conflict_id)


class CaseRegistry:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def push(self, case: CaseInput, pushed_by: str) -> Upserted:
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

    async def find(self, f: CaseFilter) -> tuple[list[dict[str, Any]], int]:
        rows = await self.pool.fetch(Q.list_cases, f.court_code, f.judge_login, f.status, f.filed_from, f.filed_to,
                                     f.overdue, f.limit, f.offset)
        total = int(rows[0]["total"]) if rows else 0
        return [dict(r) for r in rows], total

    async def get(self, case_id: int) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(Q.get_case_detail, case_id)
        return None if row is None else dict(row)

    async def events(self, case_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.pool.fetch(Q.case_events_of, case_id)]

    async def push_conflicts(self, court_code: str | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        rows = await self.pool.fetch(Q.list_push_conflicts, court_code, limit, offset)
        return [dict(r) for r in rows], (int(rows[0]["total"]) if rows else 0)

    async def searches(self, case_id: int, limit: int = 200) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.pool.fetch(Q.case_searches_of, case_id, limit)]


__all__ = ["CaseFilter", "CaseRegistry", "RowResult", "Upserted", "upsert_case"]
