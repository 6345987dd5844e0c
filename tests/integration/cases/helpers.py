"""A small court built by hand for the lifecycle and indicator tests: cases inserted as the case
system pushes them, events recorded through the lifecycle service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from connectors.sdk.registry import Registry
from enforcement.cases.lifecycle import EventInput, LifecycleRules, LifecycleService, Recorded
from enforcement.cases.store.lifecycle import LifecycleStore
from enforcement.domain.actors import Actor
from enforcement.domain.identifiers import make_resident_id
from enforcement.kernel.audit import AuditLog

COURT = "辽0102"
CASE_SYSTEM = Actor("court-sys", "case_system", "和平法院审判管理系统", COURT)
SUPERVISOR = Actor("chenjing", "supervisor", "陈静", COURT, "2101020002")
JUDGE_A = Actor("zhangwei", "judge", "张伟", COURT, "2101020031")
JUDGE_B = Actor("lina", "judge", "李娜", COURT, "2101020047")
AUDIT_KEY = b"k" * 32


@dataclass(frozen=True)
class Party:
    id: int
    kind: str
    id_number: str
    name: str


@dataclass
class World:
    pool: asyncpg.Pool
    lifecycle: LifecycleService
    audit: AuditLog
    serial: int = 0
    debtors: dict[int, list[Party]] = field(default_factory=dict)

    async def case(self, judge: Actor, filed_on: date, *, case_type: str = "执", non_litigation: bool = False,
                   amount: str = "100000.00", debtors: int = 1, cause: str = "借款合同纠纷") -> int:
        self.serial += 1
        year = filed_on.year
        number = f"（{year}）{COURT}{case_type}{self.serial}号"
        case_id: int = await self.pool.fetchval(
            """INSERT INTO enforcement_case (case_number, court_code, case_type, judge_login, applicant_name, cause,
                                             amount_to_enforce, non_litigation, filed_on)
               VALUES ($1, $2, $3, $4, '申请人', $5, $6, $7, $8) RETURNING id""",
            number, COURT, case_type, judge.login, cause, Decimal(amount), non_litigation, filed_on)
        parties = []
        for i in range(debtors):
            id_number = make_resident_id("210102", date(1970 + i, 1 + self.serial % 12, 1 + self.serial % 27),
                                         100 + 2 * self.serial + i)
            pid = await self.pool.fetchval(
                """INSERT INTO case_party (case_id, role, kind, id_number, name)
                   VALUES ($1, 'debtor', 'person', $2, $3) RETURNING id""",
                case_id, id_number, f"被执行人{self.serial}-{i}")
            parties.append(Party(int(pid), "person", id_number, f"被执行人{self.serial}-{i}"))
        self.debtors[case_id] = parties
        return case_id

    async def event(self, case_id: int, type_: str, on: date, actor: Actor = CASE_SYSTEM, *,
                    override_reason: str | None = None, external_id: str | None = None, **data: Any) -> Recorded:
        return await self.lifecycle.record(actor, case_id, EventInput(type_, on, data, external_id, override_reason))

    async def complete_zhongben_file(self, case_id: int, start: date) -> None:
        """Every 终本 condition evidenced by events dated ``start``."""
        for t in ("notice_served", "property_report_ordered", "consumption_restriction_issued", "dishonest_listed",
                  "applicant_leads_checked", "onsite_inquiry", "applicant_heard", "closure_approved"):
            await self.event(case_id, t, start)
        for category in ("deposits", "vehicles", "real_estate", "securities"):
            await self.event(case_id, "network_search_recorded", start, category=category, found=False)


async def make_world(pool: asyncpg.Pool, **rules: Any) -> World:
    async with pool.acquire() as conn:
        await conn.execute("INSERT INTO court (code, name, province) VALUES ($1, '沈阳市和平区人民法院', '辽宁省')"
                           " ON CONFLICT DO NOTHING", COURT)
        for a in (SUPERVISOR, JUDGE_A, JUDGE_B):
            await conn.execute(
                """INSERT INTO app_user (login, display_name, role, court_code, officer_id)
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
                a.login, a.display_name, a.role, a.court_code, a.officer_id)
    categories = {n: spec.manifest.search_category for n, spec in Registry.discover().items()}
    audit = AuditLog(AUDIT_KEY)
    service = LifecycleService(LifecycleStore(pool, audit), LifecycleRules(**rules), categories)
    return World(pool, service, audit)


__all__ = ["CASE_SYSTEM", "COURT", "JUDGE_A", "JUDGE_B", "SUPERVISOR", "Party", "World", "make_world"]
