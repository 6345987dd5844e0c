"""The simulated insured people behind the social insurance simulator: deterministic per ID.

A subject's career is drawn once from ``subject_rng`` on an absolute calendar of months (jobs
from 2016 on, a pause in contributions, retirement at the statutory age computed from the birth
date and sex in the resident ID), and the gateway answers with that career as seen in the
current month: contributions are paid up to last month, a job that has ended is 终止, a retired
person draws a pension. The same subject gets the same answer within a month.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.sdk import CREDIT_CHARSET, make_credit_code, resident_id_birth_date, resident_id_gender, subject_rng

# (region code, city, the social insurance agency that pays pensions there)
CITIES = (
    ("110105", "北京", "北京市社会保险基金管理中心"),
    ("310115", "上海", "上海市社会保险事业管理中心"),
    ("440305", "深圳", "深圳市社会保险基金管理局"),
    ("440106", "广州", "广州市社会保险基金管理中心"),
    ("210102", "沈阳", "沈阳市社会保险事业服务中心"),
    ("210204", "大连", "大连市社会保险事业服务中心"),
    ("330106", "杭州", "杭州市社会保险管理服务中心"),
    ("320106", "南京", "南京市社会保险管理中心"),
    ("420106", "武汉", "武汉市社会保险管理中心"),
    ("510107", "成都", "成都市社会保险事业管理局"),
    ("370102", "济南", "济南市社会保险事业中心"),
)
BRANDS = (
    "恒泰",
    "华信",
    "鼎盛",
    "宏达",
    "天成",
    "瑞丰",
    "金桥",
    "中汇",
    "远航",
    "新源",
    "博远",
    "安达",
)
TRADES = (
    "科技",
    "建筑工程",
    "商贸",
    "物流",
    "餐饮管理",
    "机械制造",
    "房地产开发",
    "医药",
    "电子",
    "物业服务",
    "汽车销售",
    "信息技术",
)
INSURANCE_SETS = (
    ("110", "310", "210", "410", "510"),  # all five
    ("110", "310", "210", "410"),  # 生育 merged into 医疗 (2019 reform)
    ("110", "310"),  # small employer, pension and medical only
)
_ORG_SYMBOLS = CREDIT_CHARSET  # valid in both the organization code and the credit code
FIRST_MONTH = 2016 * 12  # January 2016, as a month index (year * 12 + month - 1)
LAST_MONTH = 2027 * 12 + 11


def month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def month_text(m: int, sep: str = "") -> str:
    return f"{m // 12:04d}{sep}{m % 12 + 1:02d}"


@dataclass(frozen=True, slots=True)
class Job:
    employer_no: str
    employer: str
    credit_code: str
    region: str
    insurance: tuple[str, ...]
    base: Decimal
    start: int  # first month contributed
    end: int | None  # last month contributed; None while it lasts
    pause: int | None  # first month not paid, when contributions stop without an end


@dataclass(frozen=True, slots=True)
class Insured:
    """A subject's whole simulated career (not yet seen from any date)."""

    jobs: tuple[Job, ...]
    retire_month: int | None  # first month of the pension, when the subject is insured
    pension: Decimal
    pension_agency: str

    @property
    def known(self) -> bool:
        return bool(self.jobs) or self.retire_month is not None


def retirement_age(gender: str, rng: random.Random) -> int:
    """Statutory age before the 2025 reform: men 60; women 50 (workers) or 55 (cadres)."""
    return 60 if gender == "male" else rng.choice((50, 55))


def _employer(rng: random.Random) -> tuple[str, str, str, str, str]:
    region, city, agency = rng.choice(CITIES)
    name = f"{city}{rng.choice(BRANDS)}{rng.choice(TRADES)}有限公司"
    org8 = "MA" + "".join(rng.choice(_ORG_SYMBOLS) for _ in range(6))
    code = make_credit_code("9", "1", region, org8)
    number = f"{region[:4]}{rng.randint(0, 99_999_999):08d}"
    return number, name, code, region, agency


def insured(id_number: str) -> Insured:
    """The career of the person with this (valid) resident ID."""
    rng = subject_rng("social_insurance", id_number)
    birth = month_index(resident_id_birth_date(id_number))
    retire = birth + retirement_age(resident_id_gender(id_number), rng) * 12 + 1
    if rng.random() < 0.25:
        return Insured((), None, Decimal(0), "")  # never insured as an employee: 查无信息
    jobs: list[Job] = []
    agency = rng.choice(CITIES)[2]
    month = max(FIRST_MONTH + rng.randint(0, 36), birth + 18 * 12 + rng.randint(0, 60))
    count = rng.choice((1, 1, 2, 2, 3))
    for n in range(count):
        if month >= min(retire, LAST_MONTH):
            break
        number, name, code, region, agency = _employer(rng)
        # The last job usually lasts; one in five ends without another (unemployed).
        lasts = n == count - 1 and rng.random() < 0.8
        end = None if lasts else month + rng.randint(12, 60)
        if end is not None and end >= retire - 1:
            end = None  # worked until retirement: body_parts ends it there
        pause = month + rng.randint(6, 48) if end is None and rng.random() < 0.2 else None
        base = Decimal(round(rng.triangular(3600, 30000, 6500) / 50) * 50)
        insurance = rng.choice(INSURANCE_SETS)
        jobs.append(Job(number, name, code, region, insurance, base, month, end, pause))
        if end is None:
            break
        month = end + 1 + rng.randint(0, 4)
    amount = Decimal(rng.randint(180_000, 750_000)) / 100
    return Insured(tuple(jobs), retire, amount, agency)


def body_parts(person: Insured, today: date) -> dict[str, Any]:
    """What the gateway shows of ``person`` in the month of ``today``."""
    paid_up_to = month_index(today) - 1
    retired = person.retire_month is not None and person.retire_month <= month_index(today)
    items: list[dict[str, Any]] = []
    for job in sorted(person.jobs, key=lambda j: j.start, reverse=True):
        if job.start > paid_up_to:
            continue
        end = job.end
        if (
            retired
            and person.retire_month is not None
            and (end is None or end >= person.retire_month)
        ):
            end = person.retire_month - 1
        if end is not None and end <= paid_up_to:
            status, last = "3", end
        elif job.pause is not None and job.pause <= paid_up_to:
            status, last = "2", job.pause - 1
        else:
            status, last = "1", paid_up_to
        items.append(
            {
                "aab001": job.employer_no,
                "aab004": job.employer,
                "aab998": job.credit_code,
                "aab301": job.region,
                "aae140": ",".join(job.insurance),
                "aae180": f"{job.base:.2f}",
                "aac008": status,
                "aac030": month_text(job.start) + "01",
                "aae002": month_text(max(last, job.start)),
            }
        )
    pension = None
    if retired and person.retire_month is not None:
        pension = {
            "aae140": "110",
            "aic162": month_text(person.retire_month) + "01",
            "aic166": f"{person.pension:.2f}",
            "aab300": person.pension_agency,
        }
    return {"cbxxList": items, "dyxx": pension, "found": bool(items) or pension is not None}


__all__ = ["CITIES", "Insured", "Job", "body_parts", "insured", "month_index", "retirement_age"]
