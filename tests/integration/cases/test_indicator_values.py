"""Every indicator on a hand-built court, computed by hand below and compared with the SQL.

Window 2025-01-01 .. 2025-12-31, court 辽0102, judges A (zhangwei) and B (lina). Seventeen cases
(one debtor each), chosen to cover suspensions, extensions, cases pending across the window's
edges and every closure mode:

 case judge type  filed       events                                         deadline     closed
 C1   A     执    2025-01-10  recovered 100000/100000                        2025-07-10   2025-05-20 执行完毕
 C2   A     执    2025-02-01  recovered 50000/50000, petitions P1 P2         2025-08-01   2025-09-15 执行完毕, late
 C3   A     执    2025-03-01  suspended 04-01..05-01 (30 d), 80000/80000     2025-10-01   2025-09-20 执行完毕
 C4   B     执    2025-04-10  extension +2 months, petition P3 (closed)      2025-12-10   pending
 C5   B     执    2025-08-01  -                                              2026-02-01   pending
 C6   B     执    2024-09-01  recovered 20000/20000                          2025-03-01   2025-02-10 执行完毕
 C7   A     执    2024-10-15  complete 终本 file, 0/300000                   2025-04-15   2025-03-20 终本 (qualified)
 C8   B     执    2025-01-05  10000/150000, supervisor override               2025-07-05   2025-06-10 终本 (override)
 C9   A     执    2025-06-01  suspended since 2025-07-01 (still)             none         pending
 C10  B     执恢  2025-02-15  0/40000                                        2025-08-15   2025-05-01 终结执行
 C11  A     执保  2025-01-20  (preservation: not counted)                    2025-07-20   2025-03-01 执行完毕
 C12  A     执    2025-03-10  non-litigation, settlement performed 60000     2025-06-10   2025-06-01 和解长期履行
 C13  B     执    2023-06-01  -                                              2023-12-01   2024-11-30 执行完毕
 C14  A     执    2022-05-01  -                                              2022-11-01   pending
 C15  B     执    2025-02-20  0/10000                                        2025-08-20   2025-04-01 不予执行
 C16  A     执    2025-03-05  0/20000                                        2025-09-05   2025-03-25 驳回申请
 C17  B     执恢  2025-05-01  0/5000                                         2025-11-01   2025-05-10 销案
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest

from connectors.sdk.registry import Registry
from enforcement.cases.indicators import IndicatorService, Scope
from enforcement.cases.requery import RequeryConfig, RequeryScheduler
from enforcement.cases.store.indicators import IndicatorStore
from enforcement.cases.store.requery import RequeryStore
from enforcement.domain.authorization import AccessDenied
from enforcement.searches.service import SearchService
from enforcement.searches.store.searches import SearchStore
from tests.integration.cases.helpers import JUDGE_A, JUDGE_B, SUPERVISOR, World, make_world

WINDOW = Scope(date(2025, 1, 1), date(2025, 12, 31), court="辽0102")
D = date.fromisoformat


async def build(w: World) -> dict[str, int]:
    c: dict[str, int] = {}
    c["C1"] = await w.case(JUDGE_A, D("2025-01-10"), amount="100000")
    await w.event(c["C1"], "amount_recovered", D("2025-05-01"), amount="100000")
    await w.event(c["C1"], "closed", D("2025-05-20"), mode="执行完毕")

    c["C2"] = await w.case(JUDGE_A, D("2025-02-01"), amount="50000")
    await w.event(c["C2"], "petition_received", D("2025-03-01"), petition_id="P1")
    await w.event(c["C2"], "petition_closed", D("2025-03-20"), petition_id="P1")
    await w.event(c["C2"], "amount_recovered", D("2025-09-01"), amount="50000")
    await w.event(c["C2"], "closed", D("2025-09-15"), mode="执行完毕")
    await w.event(c["C2"], "petition_received", D("2025-11-20"), petition_id="P2")

    c["C3"] = await w.case(JUDGE_A, D("2025-03-01"), amount="80000")
    await w.event(c["C3"], "suspension_started", D("2025-04-01"), reason="appraisal")
    await w.event(c["C3"], "suspension_ended", D("2025-05-01"))
    await w.event(c["C3"], "amount_recovered", D("2025-09-01"), amount="80000")
    await w.event(c["C3"], "closed", D("2025-09-20"), mode="执行完毕")

    c["C4"] = await w.case(JUDGE_B, D("2025-04-10"), amount="70000")
    await w.event(c["C4"], "extension_approved", D("2025-09-01"), months=2)
    await w.event(c["C4"], "petition_received", D("2025-04-20"), petition_id="P3")  # received in the window...
    await w.event(c["C4"], "petition_closed", D("2025-04-25"), petition_id="P3")    # ... and closed
    c["C5"] = await w.case(JUDGE_B, D("2025-08-01"), amount="10000")

    c["C6"] = await w.case(JUDGE_B, D("2024-09-01"), amount="20000")
    await w.event(c["C6"], "amount_recovered", D("2025-02-01"), amount="20000")
    await w.event(c["C6"], "closed", D("2025-02-10"), mode="执行完毕")

    c["C7"] = await w.case(JUDGE_A, D("2024-10-15"), amount="300000")
    await w.complete_zhongben_file(c["C7"], D("2025-02-01"))
    await w.event(c["C7"], "closed", D("2025-03-20"), mode="终结本次执行程序")

    c["C8"] = await w.case(JUDGE_B, D("2025-01-05"), amount="150000")
    await w.event(c["C8"], "amount_recovered", D("2025-03-01"), amount="10000")
    await w.event(c["C8"], "notice_served", D("2025-01-10"))
    await w.event(c["C8"], "closed", D("2025-06-10"), SUPERVISOR, mode="终本",
                  override_reason="申请执行人书面同意终本，其余材料补充归档")

    c["C9"] = await w.case(JUDGE_A, D("2025-06-01"), amount="5000")
    await w.event(c["C9"], "suspension_started", D("2025-07-01"), reason="suspension")

    c["C10"] = await w.case(JUDGE_B, D("2025-02-15"), case_type="执恢", amount="40000")
    await w.event(c["C10"], "closed", D("2025-05-01"), mode="终结执行")

    c["C11"] = await w.case(JUDGE_A, D("2025-01-20"), case_type="执保", amount="30000")
    await w.event(c["C11"], "closed", D("2025-03-01"), mode="执行完毕")

    c["C12"] = await w.case(JUDGE_A, D("2025-03-10"), non_litigation=True, amount="60000")
    await w.event(c["C12"], "amount_recovered", D("2025-05-30"), amount="60000")
    await w.event(c["C12"], "closed", D("2025-06-01"), mode="和解长期履行", settlement_performed=True)

    c["C13"] = await w.case(JUDGE_B, D("2023-06-01"), amount="9000")
    await w.event(c["C13"], "closed", D("2024-11-30"), mode="执行完毕")
    c["C14"] = await w.case(JUDGE_A, D("2022-05-01"), amount="1000")

    c["C15"] = await w.case(JUDGE_B, D("2025-02-20"), amount="10000")
    await w.event(c["C15"], "closed", D("2025-04-01"), mode="不予执行")
    c["C16"] = await w.case(JUDGE_A, D("2025-03-05"), amount="20000")
    await w.event(c["C16"], "closed", D("2025-03-25"), mode="驳回申请")
    c["C17"] = await w.case(JUDGE_B, D("2025-05-01"), case_type="执恢", amount="5000")
    await w.event(c["C17"], "closed", D("2025-05-10"), mode="销案")
    return c


def by_code(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["code"]: i for i in report["indicators"]}


def nd(g: dict[str, Any]) -> tuple[str, str]:
    return g["numerator"], g["denominator"]


def group(ind: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    field = {"by_judge": "judge_login", "by_case_type": "case_type", "by_court": "court_code"}[key]
    return next(g for g in ind[key] if g[field] == value)


@pytest.fixture
async def court(pool: asyncpg.Pool) -> tuple[World, dict[str, int]]:
    w = await make_world(pool)
    return w, await build(w)


async def test_derived_deadlines_match_the_hand_computation(court: tuple[World, dict[str, int]]) -> None:
    w, c = court
    rows = {r["case_id"]: r["deadline"] for r in await w.pool.fetch("SELECT case_id, deadline FROM case_lifecycle")}
    expected = {"C1": "2025-07-10", "C2": "2025-08-01", "C3": "2025-10-01", "C4": "2025-12-10", "C5": None,
                "C6": "2025-03-01", "C7": "2025-04-15", "C8": "2025-07-05", "C9": None, "C10": "2025-08-15",
                "C11": "2025-07-20", "C12": "2025-06-10", "C13": "2023-12-01", "C14": None,
                "C15": "2025-08-20", "C16": "2025-09-05", "C17": "2025-11-01"}
    # C5 and C14 had no event: their rows come from reconciliation (before computing indicators).
    for name, deadline in expected.items():
        got = rows.get(c[name])
        assert (got.isoformat() if got else None) == deadline, name


async def test_every_indicator_equals_the_hand_computation(court: tuple[World, dict[str, int]]) -> None:
    w, c = court
    # The 终本 re-query of C7 (closed 2025-03-20): round 1 legally due 2025-09-18 (182 days); the
    # scheduler runs with its clock on that day. C8's round 1 (due 2025-12-09) is never made.
    manifests = {n: spec.manifest for n, spec in Registry.discover().items()}
    scheduler = RequeryScheduler(RequeryStore(w.pool), SearchService(SearchStore(w.pool), manifests),
                                 RequeryConfig(), now=lambda: datetime(2025, 9, 18, 2, 0, tzinfo=UTC))
    assert len(await scheduler.submit_due(20)) == 1

    service = IndicatorService(IndicatorStore(w.pool), w.lifecycle)
    # Made on time, but the applicant not yet told: it does not count (issue 16, 2016 rules art. 9).
    report = await service.compute(SUPERVISOR, Scope(date(2025, 1, 1), date(2025, 12, 31)))
    assert nd(by_code(report)["requery_on_time_rate"]) == ("0", "2")
    drill = await service.cases(SUPERVISOR, "requery_on_time_rate", WINDOW)
    assert {d["reason"]["en"] for d in drill["cases"] if d["case_id"] == c["C7"]} == {
        "re-query 1 was made, the applicant was not told"}
    await w.event(c["C7"], "applicant_notified", date(2025, 9, 19), occasion="requery", round=1, channel="短信",
                  content="第一次复查：查无财产")
    report = await service.compute(SUPERVISOR, Scope(date(2025, 1, 1), date(2025, 12, 31)))
    assert report["court"] == "辽0102"  # a supervisor sees their own court
    ind = by_code(report)

    # 1. deadline in 2025, not 终本/终结执行/不予执行/驳回/销案: C1 ok, C2 late, C3 ok (suspension),
    #    C4 pending at its extended deadline, C6 ok, C12 ok (non-litigation, settlement performed) = 4/6.
    #    C5 (deadline 2026) and C9 (clock stopped) are not counted; C11 is a preservation case;
    #    C7 C8 (终本), C10 (终结执行), C15 (不予执行), C16 (驳回申请), C17 (销案) had nothing to enforce.
    s = ind["statutory_closure_rate"]
    assert (s["numerator"], s["denominator"]) == ("4", "6")
    assert s["value"] == pytest.approx(4 / 6, abs=1e-6)
    assert s["meets_target"] is False and s["target"] == 0.9
    assert nd(group(s, "by_judge", "zhangwei")) == ("3", "4")
    assert nd(group(s, "by_judge", "lina")) == ("1", "2")
    assert group(s, "by_judge", "lina")["judge_name"] == "李娜"
    # 2. 终本 closures in 2025: C7 qualified, C8 overridden = 1/2.
    z = ind["zhongben_compliance_rate"]
    assert (z["numerator"], z["denominator"], z["pulling_down"]) == ("1", "2", 1)
    # 3. petitions received in 2025: P1 (closed), P2 (open), P3 (closed) = 2/3.
    p = ind["petition_closure_rate"]
    assert (p["numerator"], p["denominator"]) == ("2", "3")
    # 4. 2023-01-01 .. 2025-12-31: 16 cases (all but C11) pending at the start or filed since;
    #    closed by 2025-12-31: C1 C2 C3 C6 C7 C8 C10 C12 C13 C15 C16 C17 = 12/16.
    o = ind["overall_closure_rate"]
    assert o["window"] == {"from": "2023-01-01", "to": "2025-12-31"}
    assert (o["numerator"], o["denominator"], o["value"]) == ("12", "16", 0.75)
    # 5. closed in 2025 (C1 C2 C3 C6 C7 C8 C10 C12 C15 C16 C17): recovered 100000 + 50000 + 80000 +
    #    20000 + 0 + 10000 + 0 + 60000 + 0 + 0 + 0 = 320000 of 835000 = 0.383234; six recovered less.
    r = ind["recovery_rate"]
    assert (r["numerator"], r["denominator"], r["pulling_down"]) == ("320000", "835000", 6)
    assert r["value"] == pytest.approx(320000 / 835000, abs=1e-6)
    # 6-8. the same 11 closures: 执行完毕 4, + 和解长期履行 5, 终本 2.
    f = ind["full_enforcement_rate"]
    assert nd(f) == ("4", "11")
    assert nd(group(f, "by_judge", "zhangwei")) == ("3", "6")   # C1 C2 C3 of C1 C2 C3 C7 C12 C16
    assert nd(group(f, "by_judge", "lina")) == ("1", "5")       # C6 of C6 C8 C10 C15 C17
    assert nd(group(f, "by_case_type", "执恢")) == ("0", "2")    # C10, C17
    assert nd(ind["actual_enforcement_rate"]) == ("5", "11")
    assert nd(ind["zhongben_rate"]) == ("2", "11")
    assert ind["zhongben_rate"]["higher_is_better"] is False
    # 9. days: 130 + 226 + 203 + 162 + 156 + 156 + 75 + 83 + 40 + 20 + 9 = 1260 over 11 = 114.545;
    #    only C2 closed after its deadline.
    a = ind["avg_days_to_close"]
    assert (a["numerator"], a["denominator"], a["value"], a["pulling_down"]) == ("1260", "11", 114.55, 1)
    # 10. rounds due in 2025: C7 round 1 made on its due date, C8 round 1 not made = 1/2.
    q = ind["requery_on_time_rate"]
    assert (q["numerator"], q["denominator"]) == ("1", "2")
    assert "overall_closure_rate_alt" not in ind  # registered, disabled by default


async def test_drill_down_names_the_cases_and_the_reasons(court: tuple[World, dict[str, int]]) -> None:
    w, c = court
    service = IndicatorService(IndicatorStore(w.pool), w.lifecycle)
    drill = await service.cases(SUPERVISOR, "statutory_closure_rate", WINDOW)
    reasons = {d["case_id"]: d["reason"]["en"] for d in drill["cases"]}
    assert reasons == {
        c["C2"]: "closed (执行完毕) on 2025-09-15, 45 days after the statutory period ended on 2025-08-01",
        c["C4"]: "statutory period ended on 2025-12-10 without closure",
    }
    assert drill["total"] == 2
    zb = await service.cases(SUPERVISOR, "zhongben_compliance_rate", WINDOW)
    assert [d["case_id"] for d in zb["cases"]] == [c["C8"]]
    assert "override by chenjing" in zb["cases"][0]["reason"]["en"]
    assert "3:network_search_real_estate@" in zb["cases"][0]["reason"]["en"]
    petitions = await service.cases(SUPERVISOR, "petition_closure_rate", WINDOW)
    assert [d["reason"]["zh"] for d in petitions["cases"]] == ["信访P2于2025-11-20收到，截至2025-12-31未办结"]
    judge_only = await service.cases(JUDGE_B, "statutory_closure_rate", Scope(WINDOW.date_from, WINDOW.date_to))
    assert [d["case_id"] for d in judge_only["cases"]] == [c["C4"]]


async def test_windows_cut_cases_pending_across_their_edges(court: tuple[World, dict[str, int]]) -> None:
    w, c = court
    service = IndicatorService(IndicatorStore(w.pool), w.lifecycle)
    # First half of 2025: deadlines C6 (03-01), C12 (06-10) -> 2/2; closures C1 C6 C7 C8 C10 C12 C15 C16
    # C17 -> 执行完毕 (C1, C6) 2/9.
    h1 = by_code(await service.compute(None, Scope(date(2025, 1, 1), date(2025, 6, 30), court="辽0102")))
    assert nd(h1["statutory_closure_rate"]) == ("2", "2")
    assert nd(h1["full_enforcement_rate"]) == ("2", "9")
    # Second half: C1 (07-10) ok, C2 late, C3 (10-01) ok, C4 pending (12-10) -> 2/4.
    h2 = by_code(await service.compute(None, Scope(date(2025, 7, 1), date(2025, 12, 31), court="辽0102")))
    assert (h2["statutory_closure_rate"]["numerator"], h2["statutory_closure_rate"]["denominator"]) == ("2", "4")
    # 2026 H1: only C5's deadline (2026-02-01), still pending -> 0/1; C9 stays out while suspended.
    y26 = by_code(await service.compute(None, Scope(date(2026, 1, 1), date(2026, 6, 30), court="辽0102")))
    assert (y26["statutory_closure_rate"]["numerator"], y26["statutory_closure_rate"]["denominator"]) == ("0", "1")
    # C9's suspension ends 2026-01-10: 193 days suspended (2025-07-01 .. 2026-01-10) move its deadline
    # from 2025-12-01 to 2026-06-12, inside 2026 H1, pending -> 0/2.
    await w.event(c["C9"], "suspension_ended", date(2026, 1, 10))
    y26 = by_code(await service.compute(None, Scope(date(2026, 1, 1), date(2026, 6, 30), court="辽0102")))
    assert (y26["statutory_closure_rate"]["numerator"], y26["statutory_closure_rate"]["denominator"]) == ("0", "2")
    deadline = await w.pool.fetchval("SELECT deadline FROM case_lifecycle WHERE case_id = $1", c["C9"])
    assert deadline == date(2026, 6, 12)


async def test_scope_is_authorized(court: tuple[World, dict[str, int]]) -> None:
    w, _ = court
    service = IndicatorService(IndicatorStore(w.pool), w.lifecycle)
    with pytest.raises(AccessDenied):
        await service.compute(SUPERVISOR, Scope(date(2025, 1, 1), date(2025, 12, 31), court="辽0103"))
    mine = await service.compute(JUDGE_A, Scope(date(2025, 1, 1), date(2025, 12, 31)))
    assert mine["judge"] == "zhangwei"
    assert by_code(mine)["statutory_closure_rate"]["denominator"] == "4"
    with pytest.raises(AccessDenied):
        await service.compute(JUDGE_A, Scope(date(2025, 1, 1), date(2025, 12, 31), judge="lina"))


async def test_a_court_replaces_a_definition_with_its_own_sql(court: tuple[World, dict[str, int]]) -> None:
    w, _ = court
    # This court counts 和解长期履行 closures as 执行完毕 for 执行完毕率: its own function, registered.
    await w.pool.execute("""
        CREATE FUNCTION court_full_enforcement_rate(p_from date, p_to date)
        RETURNS TABLE (case_id bigint, court_code text, judge_login text, case_type text,
                       numerator numeric, denominator numeric, reason_zh text, reason_en text)
        LANGUAGE sql STABLE AS $$
            SELECT r.case_id, r.court_code, r.judge_login, r.case_type,
                   CASE WHEN c.closure_mode IN ('执行完毕', '和解长期履行') THEN 1 ELSE 0 END::numeric,
                   r.denominator, r.reason_zh, r.reason_en
            FROM ind_full_enforcement_rate(p_from, p_to) r JOIN enforcement_case c ON c.id = r.case_id
        $$""")
    await w.pool.execute("UPDATE indicator_definition SET function_name = 'court_full_enforcement_rate'"
                         " WHERE code = 'full_enforcement_rate'")
    service = IndicatorService(IndicatorStore(w.pool), w.lifecycle)
    ind = by_code(await service.compute(None, WINDOW))["full_enforcement_rate"]
    assert (ind["numerator"], ind["denominator"], ind["function"]) == ("5", "11", "court_full_enforcement_rate")
