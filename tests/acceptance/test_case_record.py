"""Issue 14, items 2 and 3: the case record a court's case system sends can be sent again without
changing history. Lifecycle events are the source of truth for a case's state (decision 0901): a
re-push updates only filing-time fields, never re-opens a closed case nor undoes an amount the
events recorded; a push that contradicts the events is reported (by line, with both values) and
kept for review; reconciliation finds every row that disagrees with its events. Case numbers have
one canonical form on every path, the original kept beside it."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from enforcement.api.keys import POOL
from enforcement.cases.keys import LIFECYCLE
from enforcement.commands import demo_history
from enforcement.seeds import APPLICANTS, CASES, TODAY
from tests.acceptance.test_cases_api import CMS, case, ndjson

NDJSON = {"Content-Type": "application/x-ndjson"}


def seeded_body(number: str) -> tuple[dict[str, Any], str]:
    """A seeded case as its court's case system would push it, unchanged."""
    row = next(c for c in CASES if c[0] == number)
    _, court, judge, applicant, cause, amount, age_days, debtors = row
    names = {"zhangwei": "张伟", "lina": "李娜", "wangfang": "王芳"}
    a = APPLICANTS[applicant]
    return {
        "case_number": number, "court_code": court, "judge": {"login": judge, "name": names[judge]},
        "applicant": {"kind": a.kind, "id_number": a.id_number, "name": a.name},
        "debtors": [{"kind": d.kind, "id_number": d.id_number, "name": d.name} for d in debtors],
        "cause": cause, "amount_to_enforce": f"{amount:.2f}",
        "filed_on": (TODAY - timedelta(days=age_days)).isoformat(),
    }, "cms-" + court[1:]


async def test_a_seeded_case_pushed_again_unchanged_is_the_same_case(make_api: Any) -> None:
    api = await make_api()
    pool = api.app[POOL]
    before = await pool.fetchval("SELECT count(*) FROM enforcement_case")
    for number, *_ in CASES:
        body, system = seeded_body(number)
        status, got = await api.request("POST", "/api/v1/cases", json=body, login=system, role="case_system")
        assert (status, got["outcome"]) == (200, "unchanged"), (number, got)
        assert got["case"]["case_number"] == number
    # Full-width digits and ASCII brackets: the same case, still unchanged, as an import too.
    body, system = seeded_body("（2026）辽0103执0877号")
    variant = dict(body, case_number="(２０２６)辽０１０３执０８７７号")
    status, report = await api.request("POST", "/api/v1/cases:import", login=system, role="case_system",
                                       data=ndjson(variant), headers=NDJSON)
    assert status == 200 and report["unchanged"] == 1 and report["created"] == 0, report
    assert await pool.fetchval("SELECT count(*) FROM enforcement_case") == before
    row = await pool.fetchrow("SELECT case_number, case_number_as_written FROM enforcement_case "
                              "WHERE case_number = '（2026）辽0103执0877号'")
    assert tuple(row) == ("（2026）辽0103执0877号", "（2026）辽0103执0877号")


async def test_every_way_of_writing_one_number_is_one_case_shown_as_first_written(make_api: Any) -> None:
    api = await make_api()
    _, first = await api.request("POST", "/api/v1/cases", json=case(0, case_number="（2026）辽0102执09905号"), **CMS)
    wide = case(0, case_number="（２０２６）辽０１０２执０９９０５号")
    _, again = await api.request("POST", "/api/v1/cases", json=wide, **CMS)
    spaced = case(0, case_number="(2026)辽0102执 9905号")
    _, same = await api.request("POST", "/api/v1/cases", json=spaced, **CMS)
    assert (first["outcome"], again["outcome"], same["outcome"]) == ("created", "unchanged", "unchanged")
    assert first["case"]["id"] == again["case"]["id"] == same["case"]["id"]
    assert same["case"]["case_number"] == "（2026）辽0102执09905号"
    assert same["case"]["case_number_as_written"] == "（2026）辽0102执09905号"
    _, other = await api.request("POST", "/api/v1/cases", json=case(0, case_number="（2026）辽0102执99050号"), **CMS)
    assert other["outcome"] == "created"
    # Events find the case by any way of writing its number.
    events = ndjson({"case_number": "(2026)辽0102执０９９０５号", "type": "notice_served",
                     "occurred_on": (TODAY - timedelta(days=5)).isoformat()})
    status, report = await api.request("POST", "/api/v1/cases:import-events", data=events, headers=NDJSON, **CMS)
    assert status == 200 and report["recorded"] == 1, report


async def _event(api: Any, case_id: int, kind: str, on: date, **data: Any) -> None:
    status, body = await api.request("POST", f"/api/v1/cases/{case_id}/events",
                                     json={"type": kind, "occurred_on": on.isoformat(), "data": data}, **CMS)
    assert status == 201, body


async def test_a_re_push_never_reopens_what_events_closed(make_api: Any) -> None:
    api = await make_api()
    pool = api.app[POOL]
    body = case(7501)
    _, created = await api.request("POST", "/api/v1/cases", json=body, **CMS)
    cid = created["case"]["id"]
    await _event(api, cid, "amount_recovered", TODAY - timedelta(days=3), amount="10000.00")
    await _event(api, cid, "closed", TODAY - timedelta(days=2), mode="执行完毕")

    # The filing record sent again, unchanged: nothing moves.
    status, again = await api.request("POST", "/api/v1/cases", json=body, **CMS)
    assert (status, again["outcome"], again["conflicts"]) == (200, "unchanged", [])
    got = again["case"]
    assert (got["status"], got["closure_mode"], got["amount_recovered"]) == ("closed", "执行完毕", "10000.00")

    # A filing-time correction is applied; the closure stays.
    _, fixed = await api.request("POST", "/api/v1/cases", json=dict(body, cause="民间借贷纠纷"), **CMS)
    assert fixed["outcome"] == "updated" and fixed["case"]["cause"] == "民间借贷纠纷"
    assert fixed["case"]["status"] == "closed"

    # A push that says otherwise than the events: reported by line with both values, kept, not applied.
    stale = dict(body, cause="民间借贷纠纷", status="open", amount_recovered="0.00")
    status, report = await api.request("POST", "/api/v1/cases:import", data=ndjson(case(7502), stale),
                                       headers=NDJSON, **CMS)
    assert status == 200 and report["conflicts_count"] == 1, report
    conflict = report["conflicts"][0]
    assert (conflict["line"], conflict["case_number"], conflict["id"]) == (2, body["case_number"], cid)
    fields = {f["field"]: (f["pushed"], f["recorded"]) for f in conflict["fields"]}
    assert fields == {"status": ("open", "closed"), "closure_mode": (None, "执行完毕"),
                      "closed_on": (None, (TODAY - timedelta(days=2)).isoformat()),
                      "amount_recovered": ("0.00", "10000.00")}
    row = await pool.fetchrow("SELECT status, closure_mode, amount_recovered FROM enforcement_case WHERE id = $1", cid)
    assert (row["status"], row["closure_mode"], f"{row['amount_recovered']:.2f}") == ("closed", "执行完毕", "10000.00")
    # Sent again: still reported, kept once for review, readable by the court's supervisor.
    await api.request("POST", "/api/v1/cases:import", data=ndjson(stale), headers=NDJSON, **CMS)
    status, listed = await api.request("GET", "/api/v1/cases:push-conflicts", login="chenjing", role="supervisor")
    assert status == 200, listed
    mine = [c for c in listed["items"] if c["case_id"] == cid]
    assert len(mine) == 1 and mine[0]["times"] == 2 and mine[0]["pushed_by"] == "cms-0102"
    assert {f["field"] for f in mine[0]["fields"]} == set(fields)
    status, _ = await api.request("GET", "/api/v1/cases:push-conflicts", login="zhangwei", role="judge")
    assert status == 403


async def test_a_case_without_events_takes_the_pushed_state(make_api: Any) -> None:
    api = await make_api()
    closed = case(7601, status="closed", closure_mode="执行完毕", closed_on=(TODAY - timedelta(days=1)).isoformat(),
                  amount_recovered="10000.00")
    _, first = await api.request("POST", "/api/v1/cases", json=closed, **CMS)
    _, reopened = await api.request("POST", "/api/v1/cases", json=case(7601), **CMS)
    assert (first["case"]["status"], reopened["outcome"], reopened["case"]["status"]) == ("closed", "updated", "open")
    assert reopened["conflicts"] == []


async def test_reconciliation_finds_every_row_that_disagrees_with_its_events(make_api: Any) -> None:
    api = await make_api()
    pool = api.app[POOL]
    ids = []
    for serial in (7701, 7702, 7703):
        _, c = await api.request("POST", "/api/v1/cases", json=case(serial), **CMS)
        ids.append(c["case"]["id"])
    a, b, c3 = ids
    await _event(api, a, "closed", TODAY - timedelta(days=2), mode="执行完毕")
    await _event(api, b, "amount_recovered", TODAY - timedelta(days=2), amount="500.00")
    await _event(api, c3, "suspension_started", TODAY - timedelta(days=2), reason="appraisal")
    # Rows written behind the events' back (as the old re-push did).
    await pool.execute("UPDATE enforcement_case SET status = 'open', closure_mode = NULL, closed_on = NULL "
                       "WHERE id = $1", a)
    await pool.execute("UPDATE enforcement_case SET amount_recovered = 0 WHERE id = $1", b)
    await pool.execute("UPDATE enforcement_case SET status = 'open' WHERE id = $1", c3)
    lifecycle = api.app[LIFECYCLE]
    assert await lifecycle.reconcile() >= 3
    rows = {r["id"]: r for r in await pool.fetch(
        "SELECT id, status, closure_mode, amount_recovered FROM enforcement_case WHERE id = ANY($1)", ids)}
    assert (rows[a]["status"], rows[a]["closure_mode"]) == ("closed", "执行完毕")
    assert f"{rows[b]['amount_recovered']:.2f}" == "500.00"
    assert rows[c3]["status"] == "suspended"
    assert await lifecycle.reconcile() == 0


def closed_by_events(history: demo_history.CourtHistory) -> demo_history.CourtHistory:
    """The same court whose case system records closures and amounts as events, its case records
    staying as filed (the 终本 closed without its conditions stays a pushed closure: as an event it
    would be refused)."""
    filed = {"status", "closure_mode", "closed_on", "amount_recovered"}
    cases, events = [], list(history.events)
    for c in history.cases:
        if c.get("closure_mode") == "终结本次执行程序":
            cases.append(c)
            continue
        cases.append({k: v for k, v in c.items() if k not in filed})
        if c.get("status") == "closed":
            n = c["case_number"]
            if c["amount_recovered"] != "0.00":
                events.append({"case_number": n, "type": "amount_recovered", "occurred_on": c["closed_on"],
                               "data": {"amount": c["amount_recovered"]}, "external_id": f"{n}#r"})
            events.append({"case_number": n, "type": "closed", "occurred_on": c["closed_on"],
                           "data": {"mode": c["closure_mode"]}, "external_id": f"{n}#c"})
    return demo_history.CourtHistory(cases, sorted(events, key=lambda e: (e["occurred_on"], e["external_id"])))


@pytest.mark.parametrize("flavour", ["closures_pushed", "closures_as_events"])
async def test_replaying_a_courts_history_gives_the_same_indicators(make_api: Any, flavour: str) -> None:
    """Push two years of a court's cases and events, compute the indicators; send every case and
    every event file again; the indicators are the same (on the old code the re-push re-opened
    every case its events had closed)."""
    api = await make_api()

    async def push(path: str, body: bytes) -> tuple[int, Any]:
        status, answer = await api.request("POST", path, login=demo_history.SYSTEM, role="case_system", data=body,
                                           headers=NDJSON)
        return status, answer

    today = TODAY
    history = demo_history.court_history(today)
    if flavour == "closures_as_events":
        history = closed_by_events(history)
    for path, rows in (("/api/v1/cases:import", history.cases), ("/api/v1/cases:import-events", history.events)):
        status, answer = await push(path, "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode())
        assert status == 200 and answer["rejected_count"] == 0, answer["rejected"]
    await demo_history.push_dossier_case(push)

    async def indicators() -> dict[str, Any]:
        q = urlencode({"from": (today - timedelta(days=3 * 365)).isoformat(), "to": today.isoformat()})
        status, report = await api.request("GET", f"/api/v1/indicators?{q}", login="chenjing", role="supervisor")
        assert status == 200, report
        return {i["code"]: (i["numerator"], i["denominator"], i["items"]) for i in report["indicators"]}

    async def cases() -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await api.app[POOL].fetch(
            "SELECT case_number, status, closure_mode, closed_on, amount_recovered FROM enforcement_case "
            "ORDER BY case_number")]

    before, rows_before = await indicators(), await cases()
    assert any(v[1] for v in before.values())  # the history counts for something

    status, cases_report = await push("/api/v1/cases:import", "\n".join(
        json.dumps(c, ensure_ascii=False) for c in history.cases).encode())
    status2, events_report = await push("/api/v1/cases:import-events", "\n".join(
        json.dumps(e, ensure_ascii=False) for e in history.events).encode())
    await demo_history.push_dossier_case(push)

    assert await indicators() == before
    assert await cases() == rows_before
    assert status == 200 and cases_report["unchanged"] == len(history.cases), cases_report
    assert cases_report["conflicts_count"] == 0
    assert status2 == 200 and events_report["duplicates"] == len(history.events), events_report
