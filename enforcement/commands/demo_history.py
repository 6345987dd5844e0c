"""Case histories for the demo and the browser tests, pushed the way a court's case-management
system pushes them (``POST /api/v1/cases:import`` and ``POST /api/v1/cases:import-events``, NDJSON):

- ``push_court_history``: two years of a court's cases for three judges, closed every way the
  indicators count (in and out of the statutory period, 终本 with and without every condition),
  with petitions, so the dashboard has trends, judges to drill into and cases pulling it down;
- ``push_dossier_case``: one case of judge 张伟 whose debtor has accounts (one frozen), cars,
  jobs and hotel stays, under a consumption restriction that a later star-rated stay breaches.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from connectors.hotels.simdata import registered_stays
from enforcement.domain.identifiers import make_credit_code, make_resident_id

COURT = "辽0102"
SYSTEM = "cms-0102"
JUDGES = {
    "zhangwei": "张伟",
    "lina": "李娜",
    "sunhao": "孙浩",  # not seeded: the push provisions him as a judge of the court
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("建华", "秀英", "志强", "丽娟", "海峰", "桂兰", "国庆", "晓燕", "立新", "春梅", "德明", "玉珍")


def _ndjson(rows: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()


Push = Callable[[str, bytes], Awaitable[tuple[int, Any]]]
"""(path, NDJSON body) -> (HTTP status, JSON answer), as the case system ``SYSTEM``."""


class PushRefused(RuntimeError):
    """The service refused some of the demo history."""


async def _import(push: Push, path: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    status, report = await push(path, _ndjson(rows))
    if status != 200 or report.get("rejected_count"):
        raise PushRefused(f"{path}: HTTP {status}: {report}")
    return dict(report)


def _event(case_number: str, kind: str, on: date, n: int, **data: Any) -> dict[str, Any]:
    return {"case_number": case_number, "type": kind, "occurred_on": on.isoformat(), "data": data,
            "external_id": f"{case_number}#{n}"}


def _zhongben_events(number: str, filed: date, closed: date) -> list[dict[str, Any]]:
    """Every section-4 condition, recorded in order, then the closure."""
    seq = iter(range(1, 100))
    rows = [
        _event(number, "notice_served", filed + timedelta(days=3), next(seq)),
        _event(number, "property_report_ordered", filed + timedelta(days=3), next(seq)),
        _event(number, "consumption_restriction_issued", filed + timedelta(days=10), next(seq)),
        _event(number, "dishonest_listed", filed + timedelta(days=10), next(seq)),
    ]
    rows += [_event(number, "network_search_recorded", filed + timedelta(days=20), next(seq), category=c, found=False)
             for c in ("deposits", "vehicles", "real_estate", "securities")]
    rows += [
        _event(number, "applicant_leads_checked", filed + timedelta(days=25), next(seq)),
        _event(number, "onsite_inquiry", filed + timedelta(days=30), next(seq)),
        _event(number, "applicant_heard", closed - timedelta(days=5), next(seq)),
        _event(number, "closure_approved", closed - timedelta(days=2), next(seq)),
        _event(number, "closed", closed, next(seq), mode="终结本次执行程序"),
    ]
    return rows


@dataclass(frozen=True)
class CourtHistory:
    cases: list[dict[str, Any]]
    events: list[dict[str, Any]]


def court_history(today: date) -> CourtHistory:
    """Thirty cases filed over two years, deterministic; outcomes by position. About one
    petition in five stays open."""
    cases: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    logins = list(JUDGES)
    for i in range(30):
        filed = today - timedelta(days=30 + 23 * i)
        number = f"（{filed.year}）{COURT}执{2100 + i}号"
        judge = logins[i % 3]
        amount = Decimal(20000 + 7919 * i % 500000)
        debtor = make_resident_id("210102", date(1960 + i % 30, 1 + i % 12, 1 + i % 27), 11 + 2 * i)
        applicant = make_credit_code("9", "1", "210102", f"HB{i:06d}")
        case: dict[str, Any] = {
            "case_number": number, "court_code": COURT, "judge": {"login": judge, "name": JUDGES[judge]},
            "applicant": {"kind": "organization", "id_number": applicant, "name": f"沈阳{GIVEN[i % 12]}商贸有限公司"},
            "debtors": [{"kind": "person", "id_number": debtor, "name": SURNAMES[i % 20] + GIVEN[(i * 5) % 12]}],
            "cause": ("借款合同纠纷", "买卖合同纠纷", "民间借贷纠纷", "劳务合同纠纷")[i % 4],
            "amount_to_enforce": f"{amount:.2f}", "filed_on": filed.isoformat(),
        }
        # Recent cases are mostly still open; older ones closed: most fully enforced within the
        # statutory period, one late, three 终本 with every condition, one 终本 without them.
        outcome = 99 if i < 8 and i % 2 else i % 20
        closed: date | None = None
        mode = ""
        if outcome in (15, 16, 17):
            closed = filed + timedelta(days=120 + i % 30)
            mode = "终结本次执行程序"
        elif outcome == 18:
            closed = filed + timedelta(days=100)
            mode = "终结本次执行程序"
        elif outcome == 14:
            closed = filed + timedelta(days=200 + i)
            mode = "执行完毕"
        elif outcome != 99:
            closed = filed + timedelta(days=40 + (i * 7) % 120)
            mode = "执行完毕"
        if closed is not None and closed <= today:
            if outcome in (15, 16, 17):
                events += _zhongben_events(number, filed, closed)
            else:
                recovered = amount if mode == "执行完毕" else Decimal(0)
                case.update(status="closed", closure_mode=mode, closed_on=closed.isoformat(),
                            amount_recovered=f"{recovered:.2f}")
        if i % 6 == 0:
            received = filed + timedelta(days=30)
            if received <= today:
                events.append(_event(number, "petition_received", received, 90, petition_id=f"XF{i:04d}"))
                if i % 24 != 12 and received + timedelta(days=15) <= today:
                    events.append(_event(number, "petition_closed", received + timedelta(days=15), 91,
                                         petition_id=f"XF{i:04d}"))
        cases.append(case)
    return CourtHistory(cases, sorted(events, key=lambda e: (e["occurred_on"], e["external_id"])))


async def push_court_history(push: Push, today: date | None = None) -> CourtHistory:
    history = court_history(today or date.today())
    await _import(push, "/api/v1/cases:import", history.cases)
    await _import(push, "/api/v1/cases:import-events", history.events)
    return history


# The dossier case: a debtor (deterministic simulator data) with three bank accounts, one frozen
# by another court, three cars, jobs, and hotel stays, one of them in a five-star hotel after the
# consumption restriction order.
DOSSIER_CASE = "（2025）辽0102执815号"
DOSSIER_FILED = date(2025, 2, 10)
RESTRICTION_ON = date(2025, 3, 5)
DOSSIER_DEBTOR = {"kind": "person", "id_number": make_resident_id("210102", date(1976, 3, 12), 93), "name": "刘志刚"}
FIRST_SEARCH_TO = date(2024, 12, 31)  # an earlier, narrower search: the later stays are new since


def breaching_stays() -> list[dict[str, Any]]:
    return [s for s in registered_stays(DOSSIER_DEBTOR["id_number"])
            if s["star_rating"] > 0 and s["check_in_time"][:10] > RESTRICTION_ON.isoformat()]


async def push_dossier_case(push: Push) -> None:
    if not breaching_stays():
        raise PushRefused("the simulator's hotel data changed: pick another debtor for the dossier case")
    case = {
        "case_number": DOSSIER_CASE, "court_code": COURT, "judge": {"login": "zhangwei", "name": "张伟"},
        "applicant": {"kind": "organization", "id_number": make_credit_code("9", "1", "210102", "MA0R7Q4X"),
                      "name": "沈阳盛京融资担保有限公司"},
        "debtors": [DOSSIER_DEBTOR], "cause": "追偿权纠纷", "amount_to_enforce": "2680000.00",
        "filed_on": DOSSIER_FILED.isoformat(),
    }
    await _import(push, "/api/v1/cases:import", [case])
    f, n = DOSSIER_FILED, DOSSIER_CASE
    await _import(push, "/api/v1/cases:import-events", [
        _event(n, "notice_served", f + timedelta(days=4), 1),
        _event(n, "property_report_ordered", f + timedelta(days=4), 2),
        _event(n, "consumption_restriction_issued", RESTRICTION_ON, 3),
        _event(n, "dishonest_listed", RESTRICTION_ON, 4),
        _event(n, "applicant_lead_received", f + timedelta(days=40), 5),
        _event(n, "applicant_leads_checked", f + timedelta(days=45), 6),
        _event(n, "onsite_inquiry", f + timedelta(days=60), 7),
        _event(n, "amount_recovered", f + timedelta(days=90), 8, amount="150000.00"),
    ])
