"""The 终本 checklist over HTTP, against the agency simulators: searches made through the service
count as network searches by category, events fill in the rest; closing as 终本 is refused while
a condition is missing unless a supervisor overrides with a written reason (audited)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from enforcement.api.keys import POOL, REGISTRY
from enforcement.cases.lifecycle import court_today
from enforcement.seeds import CASES

TODAY = court_today()  # Beijing date, as the service counts days
CMS = {"login": "cms-0102", "role": "case_system"}
CONDITION_EVENTS = ("notice_served", "property_report_ordered", "consumption_restriction_issued", "dishonest_listed",
                    "applicant_leads_checked", "onsite_inquiry", "applicant_heard", "closure_approved")


async def case_id(api: Any, number: str) -> int:
    value: int = await api.app[POOL].fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", number)
    return value


async def post_event(api: Any, cid: int, type_: str, on: date, login: str = "zhangwei", role: str = "judge",
                     **extra: Any) -> tuple[int, Any]:
    body = {"type": type_, "occurred_on": on.isoformat(), **extra}
    result: tuple[int, Any] = await api.request("POST", f"/api/v1/cases/{cid}/events", login=login, role=role,
                                                json=body)
    return result


async def test_searches_and_events_make_the_checklist_complete_and_the_case_closes(make_api: Any) -> None:
    api = await make_api()
    number, *_rest, debtors = CASES[2]  # （2026）辽0102执1305号: an organization, filed 128 days ago
    cid = await case_id(api, number)
    status, check = await api.request("GET", f"/api/v1/cases/{cid}/closure-check", login="zhangwei")
    assert status == 200, check
    assert check["ready"] is False
    assert [c["number"] for c in check["conditions"]] == [1, 2, 3, 4, 5, 6]
    assert check["required_categories"] == ["deposits", "vehicles", "real_estate", "securities"]
    party = next(r["debtor"]["party_id"] for c in check["conditions"] for r in c["requirements"] if r["debtor"])
    assert f"3:network_search_deposits@{party}" in check["missing"]
    assert "4:months_since_filing" not in check["missing"]  # filed 128 days ago

    # A search through the service: banks (deposits) and vehicles answer for an organization.
    d = debtors[0]
    status, body = await api.request("POST", "/api/v1/searches", login="zhangwei", json={
        "case_id": cid, "subject": {"kind": d.kind, "id_number": d.id_number, "name": d.name}})
    assert status == 202, body
    await api.wait_search(body["id"], "zhangwei")
    status, check = await api.request("GET", f"/api/v1/cases/{cid}/closure-check", login="zhangwei")
    searched = {r["code"]: r for c in check["conditions"] for r in c["requirements"]}
    # Every category a connected agency answers for organizations is evidenced by the search itself
    # (banks: deposits, vehicles, and the real-estate plug-in when installed); the others are not.
    connectors = {spec.manifest.search_category: name for name, spec in api.app[REGISTRY].items()
                  if "organization" in spec.manifest.subject_kinds}
    assert {"deposits", "vehicles"} <= set(connectors)
    for category in ("deposits", "vehicles", "real_estate", "securities"):
        req = searched[f"network_search_{category}"]
        if category in connectors:
            assert req["met"] is True, category
            assert req["evidence"][0]["source"] == "search"
            assert req["evidence"][0]["agency"] == connectors[category]
            assert req["evidence"][0]["search_id"] == body["id"]
        else:
            assert req["met"] is False, category
    assert "securities" in connectors  # 中国结算, built in

    # The rest from the case file; categories no connector answers were searched over 总对总 by the court.
    on = TODAY - timedelta(days=5)
    for t in CONDITION_EVENTS:
        status, rec = await post_event(api, cid, t, on)
        assert status == 201, rec
    for category in sorted({"real_estate", "securities"} - set(connectors)):
        status, rec = await post_event(api, cid, "network_search_recorded", on, login="cms-0102", role="case_system",
                                       data={"category": category, "found": False})
        assert status == 201, rec
        assert rec["event"]["source"] == "case_system:cms-0102"
    status, check = await api.request("GET", f"/api/v1/cases/{cid}/closure-check", login="chenjing", role="supervisor")
    assert check["ready"] is True, check["missing"]

    status, closed = await post_event(api, cid, "closed", TODAY, data={"mode": "终本"})
    assert status == 201, closed
    assert closed["closure_check"]["ready"] is True and closed["override"] is False
    assert closed["lifecycle"]["status"] == "closed"
    assert closed["event"]["data"]["mode"] == "终结本次执行程序"
    status, history = await api.request("GET", f"/api/v1/cases/{cid}/events", login="zhangwei")
    assert status == 200
    assert history["closure_verdict"]["qualified"] is True
    assert len(history["requery"]) == 10 and history["requery"][0]["status"] == "pending"
    assert {s["category"] for s in history["network_searches"]} >= {"deposits", "vehicles"}
    assert await api.app[POOL].fetchval("SELECT status FROM enforcement_case WHERE id = $1", cid) == "closed"


@pytest.mark.parametrize("plugin", [True, False], ids=["with the real estate plug-in", "without it"])
async def test_real_estate_counts_where_the_plugin_is_installed_and_is_named_where_not(
        make_api: Any, registry: Any, plugin: bool) -> None:
    assert "real_estate" in registry, "make test installs examples/real_estate"
    api = await make_api(only=None if plugin else [n for n in registry if n != "real_estate"])
    number, *_rest, debtors = CASES[2]
    cid = await case_id(api, number)
    d = debtors[0]
    status, body = await api.request("POST", "/api/v1/searches", login="zhangwei", json={
        "case_id": cid, "subject": {"kind": d.kind, "id_number": d.id_number, "name": d.name}})
    assert status == 202, body
    assert ("real_estate" in {a["agency"] for a in body["agencies"]}) is plugin
    await api.wait_search(body["id"], "zhangwei")
    status, check = await api.request("GET", f"/api/v1/cases/{cid}/closure-check", login="zhangwei")
    assert status == 200, check
    reqs = {r["code"]: r for c in check["conditions"] for r in c["requirements"]}
    securities = reqs["network_search_securities"]
    assert securities["met"] is True and securities["evidence"][0]["agency"] == "securities"
    real_estate = reqs["network_search_real_estate"]
    if plugin:
        assert real_estate["met"] is True and real_estate["evidence"][0]["agency"] == "real_estate"
        assert real_estate["note"] is None and check["unsearchable_categories"] == []
    else:
        assert real_estate["met"] is False and real_estate["note"] == "no_connector"
        assert check["unsearchable_categories"] == [{
            "category": "real_estate",
            "message": {"zh": "不动产：本系统未接入可查询的协查单位",
                        "en": "real estate: no agency this system is connected to can search it"}}]


async def test_closing_with_a_condition_missing_is_refused_unless_a_supervisor_overrides(make_api: Any) -> None:
    api = await make_api()
    cid = await case_id(api, CASES[0][0])  # （2026）辽0102执1032号: filed 40 days ago, nothing recorded
    status, body = await post_event(api, cid, "closed", TODAY, data={"mode": "终结本次执行程序"})
    assert status == 409, body
    assert body["error"]["code"] == "closure_conditions_missing"
    missing = body["error"]["details"]["missing"]
    assert "4:months_since_filing" in missing and "6:closure_approved" in missing
    status, body = await post_event(api, cid, "closed", TODAY, login="cms-0102", role="case_system",
                                    data={"mode": "终本"})
    assert (status, body["error"]["code"]) == (409, "closure_conditions_missing")
    status, body = await post_event(api, cid, "closed", TODAY, data={"mode": "终本"}, override_reason="我认为可以")
    assert (status, body["error"]["code"]) == (403, "override_requires_supervisor")
    status, body = await post_event(api, cid, "closed", TODAY, login="liuyang", role="supervisor",
                                    data={"mode": "终本"}, override_reason="他院院长越权")
    assert (status, body["error"]["code"]) == (403, "other_court")
    status, body = await post_event(api, cid, "closed", TODAY, login="chenjing", role="supervisor",
                                    data={"mode": "终本"}, override_reason=" ")
    assert (status, body["error"]["code"]) == (409, "closure_conditions_missing")

    reason = "被执行人已死亡且无遗产，经审委会讨论同意终本"
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/events", login="chenjing", role="supervisor",
                                     headers={"X-Request-Id": "override-1"},
                                     json={"type": "closed", "occurred_on": TODAY.isoformat(),
                                           "data": {"mode": "终本"}, "override_reason": reason})
    assert status == 201, body
    assert body["override"] is True and body["closure_check"]["ready"] is False
    assert body["event"]["data"]["override"] == {"by": "chenjing", "reason": reason}
    audit = await api.app[POOL].fetchrow("SELECT * FROM audit_log WHERE action = 'closure_override'")
    assert audit["actor_login"] == "chenjing" and audit["case_id"] == cid and audit["request_id"] == "override-1"
    assert audit["details"]["override_reason"] == reason
    assert "4:months_since_filing" in audit["details"]["missing"]
    status, history = await api.request("GET", f"/api/v1/cases/{cid}/events", login="zhangwei")
    assert history["closure_verdict"] == {"qualified": False, "missing": audit["details"]["missing"],
                                          "override_by": "chenjing", "override_reason": reason}
    status, drill = await api.request("GET", "/api/v1/indicators/zhongben_compliance_rate/cases", login="chenjing",
                                      role="supervisor")
    assert status == 200, drill
    assert [c["case_id"] for c in drill["cases"]] == [cid]
    assert "override by chenjing" in drill["cases"][0]["reason"]["en"]


async def test_events_are_checked_idempotent_and_authorized(make_api: Any) -> None:
    api = await make_api()
    cid = await case_id(api, CASES[1][0])  # （2026）辽0102执1187号, zhangwei's
    on = TODAY - timedelta(days=3)
    status, first = await post_event(api, cid, "notice_served", on, login="cms-0102", role="case_system",
                                     external_id="cms-ev-1")
    assert status == 201, first
    status, again = await post_event(api, cid, "notice_served", on, login="cms-0102", role="case_system",
                                     external_id="cms-ev-1")
    assert (status, again["created"], again["event"]["id"]) == (200, False, first["event"]["id"])
    status, body = await post_event(api, cid, "onsite_inquiry", on, login="cms-0102", role="case_system",
                                    external_id="cms-ev-1")
    assert (status, body["error"]["code"]) == (409, "external_id_reused")
    status, body = await post_event(api, cid, "suspension_ended", on)
    assert (status, body["error"]["code"]) == (409, "not_suspended")
    status, body = await post_event(api, cid, "lunch", on)
    assert (status, body["error"]["code"]) == (422, "unknown_event_type")
    status, body = await post_event(api, cid, "notice_served", TODAY + timedelta(days=2))
    assert (status, body["error"]["code"]) == (422, "event_in_future")
    status, body = await post_event(api, cid, "notice_served", on, login="lina")
    assert (status, body["error"]["code"]) == (403, "not_case_judge")
    status, body = await api.request("GET", f"/api/v1/cases/{cid}/closure-check", login="wangfang")
    assert (status, body["error"]["code"]) == (403, "not_case_judge")
    status, body = await post_event(api, cid, "suspension_started", on, data={"reason": "auction"})
    assert status == 201 and body["lifecycle"]["status"] == "suspended" and body["lifecycle"]["deadline"] is None
    assert await api.app[POOL].fetchval("SELECT status FROM enforcement_case WHERE id = $1", cid) == "suspended"


async def test_events_import_as_ndjson(make_api: Any) -> None:
    api = await make_api()
    number = CASES[1][0]
    on = (TODAY - timedelta(days=2)).isoformat()
    lines = [
        {"case_number": number, "type": "notice_served", "occurred_on": on, "external_id": "n-1"},
        {"case_number": number, "type": "petition_received", "occurred_on": on, "data": {"petition_id": "XF-9"}},
        {"case_number": number, "type": "notice_served", "occurred_on": on, "external_id": "n-1"},
        {"case_number": "（2026）辽0102执9999号", "type": "notice_served", "occurred_on": on},
        {"case_number": number, "type": "petition_closed", "occurred_on": on, "data": {"petition_id": "nope"}},
    ]
    body = b"\n".join(json.dumps(x, ensure_ascii=False).encode() for x in lines) + b"\n{not json\n"
    status, report = await api.request("POST", "/api/v1/cases:import-events", data=body,
                                       headers={"Content-Type": "application/x-ndjson"}, **CMS)
    assert status == 200, report
    assert (report["lines"], report["recorded"], report["duplicates"], report["rejected_count"]) == (6, 2, 1, 3)
    assert [(r["line"], r["code"]) for r in report["rejected"]] == [
        (4, "case_not_found"), (5, "petition_not_open"), (6, "malformed_json")]
