"""What a notice to the applicant is generated from: the case's header and its agencies' answers
about its debtors (frozen values, never driver rows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from enforcement.kernel.queries import Q


@dataclass(frozen=True, slots=True)
class NoticeCase:
    id: int
    case_number: str
    court_code: str
    court_name: str
    applicant_name: str
    judge_login: str | None
    status: str
    closure_mode: str | None
    closed_on: date | None


@dataclass(frozen=True, slots=True)
class AnswerRow:
    debtor_name: str
    purpose: str
    agency: str
    answered_at: datetime
    round: int | None
    property_count: int


class NoticeStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def case(self, case_id: int) -> NoticeCase | None:
        r = await self.pool.fetchrow(Q.notice_case, case_id)
        if r is None:
            return None
        return NoticeCase(int(r["id"]), r["case_number"], r["court_code"], r["court_name"], r["applicant_name"],
                          r["judge_login"], r["status"], r["closure_mode"], r["closed_on"])

    async def answers(self, case_id: int, property_kinds: Sequence[str]) -> list[AnswerRow]:
        return [AnswerRow(r["debtor_name"], r["purpose"], r["agency"], r["answered_at"],
                          int(r["round"]) if r["round"] is not None else None, int(r["property_count"]))
                for r in await self.pool.fetch(Q.notice_answers_of_case, case_id, list(property_kinds))]


__all__ = ["AnswerRow", "NoticeCase", "NoticeStore"]
