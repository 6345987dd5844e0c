"""Realistic demo data: two courts in 沈阳, their judges and supervisors, and open cases whose
debtors are people and companies with valid ID numbers. Idempotent: seeding twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import asyncpg

from enforcement.domain.cases import canonical_case_number
from enforcement.domain.identifiers import make_credit_code, make_resident_id

COURTS = [
    ("辽0102", "沈阳市和平区人民法院", "辽宁省"),
    ("辽0103", "沈阳市沈河区人民法院", "辽宁省"),
]

# login, name, role, court, officer id, agency
USERS = [
    ("zhangwei", "张伟", "judge", "辽0102", "2101020031", None),
    ("lina", "李娜", "judge", "辽0102", "2101020047", None),
    ("wangfang", "王芳", "judge", "辽0103", "2101030012", None),
    ("chenjing", "陈静", "supervisor", "辽0102", "2101020002", None),
    ("liuyang", "刘洋", "supervisor", "辽0103", "2101030003", None),
    ("ops", "运维值班", "ops", None, None, None),
    ("bank-gateway", "银行总对总网关", "agency", None, None, "banks"),
    # Each court's case-management system (审判流程管理系统) pushes that court's cases.
    ("cms-0102", "和平区法院审判流程管理系统", "case_system", "辽0102", None, None),
    ("cms-0103", "沈河区法院审判流程管理系统", "case_system", "辽0103", None, None),
]


@dataclass(frozen=True)
class SeedDebtor:
    kind: str
    id_number: str
    name: str


def person(address: str, birth: date, seq: int, name: str) -> SeedDebtor:
    return SeedDebtor("person", make_resident_id(address, birth, seq), name)


def company(region: str, org8: str, name: str) -> SeedDebtor:
    return SeedDebtor("organization", make_credit_code("9", "1", region, org8), name)


TODAY = date.today()

# The applicants of the seeded cases, with valid ID numbers (people) and credit codes (companies).
APPLICANTS = {
    "沈阳银信小额贷款有限公司": company("210102", "MA0Y8R2K", "沈阳银信小额贷款有限公司"),
    "孙丽华": person("210103", date(1962, 4, 18), 226, "孙丽华"),
    "辽宁恒达建材有限公司": company("210100", "7A3B5C9D", "辽宁恒达建材有限公司"),
    "吴桂芳": person("210105", date(1958, 9, 2), 482, "吴桂芳"),
    "沈阳市和平区供暖公司": company("210102", "12045678", "沈阳市和平区供暖公司"),
    "中国建设银行股份有限公司沈阳分行": company("210100", "MA0P3K7L", "中国建设银行股份有限公司沈阳分行"),
}

# case number, court, judge, applicant, cause, amount, days since filing, debtors
CASES = [
    ("（2026）辽0102执1032号", "辽0102", "zhangwei", "沈阳银信小额贷款有限公司", "借款合同纠纷",
     Decimal("386500.00"), 40, [person("210102", date(1978, 5, 14), 135, "赵建国")]),
    ("（2026）辽0102执1187号", "辽0102", "zhangwei", "孙丽华", "民间借贷纠纷", Decimal("120000.00"), 75,
     [person("210103", date(1985, 11, 2), 212, "钱晓梅"), person("210104", date(1983, 3, 9), 117, "周志强")]),
    ("（2026）辽0102执1305号", "辽0102", "zhangwei", "辽宁恒达建材有限公司", "买卖合同纠纷", Decimal("1580000.00"), 128,
     [company("210102", "MA0T5K3L", "沈阳鑫盛商贸有限公司")]),
    ("（2025）辽0102执4420号", "辽0102", "zhangwei", "吴桂芳", "劳务合同纠纷", Decimal("45800.00"), 210,
     [person("210105", date(1969, 8, 23), 351, "郑海涛")]),
    ("（2026）辽0102执1410号", "辽0102", "lina", "沈阳市和平区供暖公司", "供用热力合同纠纷", Decimal("8650.00"), 30,
     [person("210102", date(1990, 1, 30), 428, "冯雪")]),
    ("（2026）辽0103执0877号", "辽0103", "wangfang", "中国建设银行股份有限公司沈阳分行", "金融借款合同纠纷",
     Decimal("2340000.00"), 95,
     [company("210103", "59871234", "沈阳北方重工配件有限公司"), person("210103", date(1972, 6, 6), 19, "陈立新")]),
]


async def seed(pool: asyncpg.Pool) -> dict[str, int]:
    """Insert the demo courts, users and cases; return case number -> case id."""
    ids: dict[str, int] = {}
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO court (code, name, province) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", COURTS
        )
        await conn.executemany(
            """INSERT INTO app_user (login, display_name, role, court_code, officer_id, agency)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
            USERS,
        )
        for number, court, judge, applicant, cause, amount, age_days, debtors in CASES:
            case_id = await conn.fetchval(
                """INSERT INTO enforcement_case (case_number, case_number_as_written, court_code, case_type,
                                                 judge_login, applicant_name, cause, amount_to_enforce, filed_on)
                   VALUES ($1, $2, $3, '执', $4, $5, $6, $7, $8)
                   ON CONFLICT (case_number_key) DO UPDATE SET updated_at = enforcement_case.updated_at
                   RETURNING id""",
                canonical_case_number(number), number, court, judge, applicant, cause, amount,
                TODAY - timedelta(days=age_days),
            )
            ids[number] = case_id
            a = APPLICANTS[applicant]
            await conn.execute(
                """INSERT INTO case_party (case_id, role, kind, id_number, name)
                   VALUES ($1, 'applicant', $2, $3, $4) ON CONFLICT DO NOTHING""",
                case_id, a.kind, a.id_number, a.name,
            )
            for d in debtors:
                await conn.execute(
                    """INSERT INTO case_party (case_id, role, kind, id_number, name)
                       VALUES ($1, 'debtor', $2, $3, $4) ON CONFLICT DO NOTHING""",
                    case_id, d.kind, d.id_number, d.name,
                )
    return ids


__all__ = ["APPLICANTS", "CASES", "COURTS", "USERS", "seed"]
