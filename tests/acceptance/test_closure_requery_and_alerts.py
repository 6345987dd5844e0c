"""After a 终本: the running worker re-queries the debtor through the simulators on the schedule,
new property becomes one alert for the judge with the case ready to resume; a star-rated hotel
stay after a consumption restriction is flagged in the dossier and alerted; the indicators are
served as JSON, CSV (audited) and Prometheus gauges."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from enforcement.api.keys import POOL
from enforcement.cases.keys import LIFECYCLE_WORKER
from enforcement.cases.lifecycle import court_today
from enforcement.domain.identifiers import make_credit_code
from enforcement.seeds import CASES
from tests.acceptance.test_closure_checklist import CONDITION_EVENTS, case_id, post_event

TODAY = court_today()  # Beijing date, as the service counts days


async def wait_for(check: Any, timeout: float = 30.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.2)


async def test_the_worker_requeries_a_zhongben_debtor_and_new_property_is_one_alert(make_api: Any) -> None:
    # A court that re-queries daily (REQUERY_INTERVAL_DAYS=1), so that a closure of 100 days ago has
    # a round due today; the worker ticks every 0.2 s.
    api = await make_api(requery_interval_days=1, requery_years=1, lifecycle_tick_seconds=0.2)
    number = CASES[3][0]  # （2025）辽0102执4420号, filed 210 days ago, debtor 郑海涛 (never searched here)
    cid = await case_id(api, number)
    on = TODAY - timedelta(days=150)
    for t in CONDITION_EVENTS:
        assert (await post_event(api, cid, t, on))[0] == 201
    for category in ("deposits", "vehicles", "real_estate", "securities"):  # the court's own 总对总 searches
        status, _ = await post_event(api, cid, "network_search_recorded", on,
                                     data={"category": category, "found": False})
        assert status == 201
    status, closed = await post_event(api, cid, "closed", TODAY - timedelta(days=100), data={"mode": "终本"})
    assert status == 201, closed
    assert closed["closure_check"]["ready"] is True

    async def new_property() -> list[Any]:
        status, body = await api.request("GET", "/api/v1/alerts?kind=new_property", login="zhangwei")
        assert status == 200, body
        return [a for a in body["alerts"] if a["case"]["id"] == cid]

    await wait_for(new_property, timeout=45)  # raised with the first answer that shows new property

    async def round_done() -> bool:
        return bool(await api.app[POOL].fetchval(
            "SELECT count(*) FROM requery_round WHERE case_id = $1 AND status = 'done'", cid))

    await wait_for(round_done, timeout=45)  # banks answer later, asynchronously; the same alert grows
    await asyncio.sleep(0.5)
    alerts = await new_property()
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["status"] == "open"
    assert alert["actions"]["resume"] == {"method": "POST", "href": f"/api/v1/cases/{cid}/events",
                                          "body": {"type": "resumed"}}
    assert {a["kind"] for a in alert["evidence"]["assets"]} >= {"bank_account", "vehicle"}
    assert alert["message"]["zh"].startswith("终本复查发现新的财产")
    search = await api.app[POOL].fetchrow("SELECT purpose, requested_by FROM search WHERE id = $1::uuid",
                                          alert["search_id"])
    assert dict(search) == {"purpose": "终本复查", "requested_by": "system:requery"}
    # One search for the debtor, however many ticks ran; earlier rounds of the closure recorded as missed.
    await asyncio.sleep(1.0)
    assert await api.app[POOL].fetchval("SELECT count(*) FROM search WHERE case_id = $1", cid) == 1
    counts = dict(await api.app[POOL].fetch(
        "SELECT status, count(*) FROM requery_round WHERE case_id = $1 GROUP BY status", cid))
    assert counts.get("missed") == 99 and counts.get("done") == 1

    # The judge sees the finding in the dossier too, and resumes the case from the alert.
    status, view = await api.request("GET", f"/api/v1/searches/{alert['search_id']}", login="zhangwei")
    assert status == 200
    assert [a["kind"] for a in view["alerts"]] == ["new_property"]
    resume = alert["actions"]["resume"]
    # The action is offered to whom may take it; called by another judge, the API refuses it, audited.
    before = await api.app[POOL].fetchval("SELECT coalesce(max(id), 0) FROM audit_log")
    status, refused = await api.request(resume["method"], resume["href"], login="lina",
                                        json={**resume["body"], "occurred_on": TODAY.isoformat()})
    assert (status, refused["error"]["code"]) == (403, "not_case_judge"), refused
    assert [(r["action"], r["reason"], r["case_id"]) for r in await api.app[POOL].fetch(
        "SELECT action, reason, case_id FROM audit_log WHERE id > $1", before)] == [
        ("refusal", "not_case_judge", cid)]
    status, resumed = await api.request(resume["method"], resume["href"], login="zhangwei",
                                        json={**resume["body"], "occurred_on": TODAY.isoformat()})
    assert status == 201, resumed
    assert (await new_property())[0]["status"] == "resolved"
    assert await api.app[POOL].fetchval(
        "SELECT count(*) FROM requery_round WHERE case_id = $1 AND status = 'pending'", cid) == 0


async def test_a_hotel_stay_after_a_consumption_restriction_is_flagged_and_alerted(make_api: Any) -> None:
    api = await make_api(lifecycle_tick_seconds=0.2)
    debtor = CASES[0][-1][0]  # 赵建国: the hotel registry has him at 北京饭店 (5 stars) on 2020-09-14
    applicant = {"kind": "organization", "id_number": make_credit_code("9", "1", "210102", "MA0Y8R2K"),
                 "name": "沈阳银信小额贷款有限公司"}
    status, pushed = await api.request("POST", "/api/v1/cases", login="cms-0102", role="case_system", json={
        "case_number": "（2019）辽0102执88号", "court_code": "辽0102",
        "judge": {"login": "zhangwei", "name": "张伟", "officer_id": "2101020031"}, "applicant": applicant,
        "debtors": [{"kind": debtor.kind, "id_number": debtor.id_number, "name": debtor.name}],
        "cause": "借款合同纠纷", "amount_to_enforce": "50000.00", "filed_on": "2019-01-07"})
    assert status == 201, pushed
    cid = pushed["case"]["id"]
    status, _ = await post_event(api, cid, "consumption_restriction_issued", date(2019, 6, 1))
    assert status == 201
    status, body = await api.request("POST", "/api/v1/searches", login="zhangwei", json={
        "case_id": cid, "subject": {"kind": debtor.kind, "id_number": debtor.id_number, "name": debtor.name}})
    assert status == 202, body
    view = await api.wait_search(body["id"], "zhangwei")
    flags = [a for a in view["alerts"] if a["kind"] == "consumption_breach"]
    assert [f["evidence"]["stay"]["hotel_name"] for f in flags] == ["北京饭店"]  # 5 stars, 2020; not 2018's stay
    assert flags[0]["evidence"]["stay"]["star_rating"] == 5
    assert flags[0]["evidence"]["order"]["issued_on"] == "2019-06-01"

    async def breach_alerts() -> list[Any]:
        status, listed = await api.request("GET", f"/api/v1/alerts?case_id={cid}", login="zhangwei")
        assert status == 200
        return list(listed["alerts"])

    alerts = await wait_for(breach_alerts)
    assert [(a["kind"], a["evidence"]["stay"]["hotel_name"]) for a in alerts] == [("consumption_breach", "北京饭店")]
    status, seen = await api.request("POST", f"/api/v1/alerts/{alerts[0]['id']}/status", login="zhangwei",
                                     json={"status": "acknowledged"})
    assert (status, seen["status"], seen["acknowledged_by"]) == (200, "acknowledged", "zhangwei")
    status, other = await api.request("GET", "/api/v1/alerts", login="lina")
    assert status == 200 and all(a["case"]["id"] != cid for a in other["alerts"])
    status, refused = await api.request("POST", f"/api/v1/alerts/{alerts[0]['id']}/status", login="lina",
                                        json={"status": "resolved"})
    assert (status, refused["error"]["code"]) == (403, "not_case_judge")
    status, supervisor = await api.request("GET", "/api/v1/alerts", login="chenjing", role="supervisor")
    assert any(a["id"] == alerts[0]["id"] for a in supervisor["alerts"])
    # The judge resolves it: the acknowledgement kept; the same status again changes nothing. Each
    # change audited (who, from, to), the refused one and the repeated one not as a change.
    status, done = await api.request("POST", f"/api/v1/alerts/{alerts[0]['id']}/status", login="zhangwei",
                                     json={"status": "resolved"})
    assert status == 200 and (done["acknowledged_by"], done["acknowledged_at"], done["resolved_by"]) == (
        "zhangwei", seen["acknowledged_at"], "zhangwei"), done
    status, again = await api.request("POST", f"/api/v1/alerts/{alerts[0]['id']}/status", login="zhangwei",
                                      json={"status": "resolved"})
    assert status == 200 and again["resolved_at"] == done["resolved_at"], again
    records = await api.app[POOL].fetch(
        "SELECT actor_login, actor_role, case_id, details FROM audit_log WHERE action = 'alert_status_changed' "
        "AND target = $1 ORDER BY id", f"alert:{alerts[0]['id']}")
    assert [(r["actor_login"], r["actor_role"], r["case_id"], r["details"]["from"], r["details"]["to"])
            for r in records] == [("zhangwei", "judge", cid, "open", "acknowledged"),
                                  ("zhangwei", "judge", cid, "acknowledged", "resolved")], records


async def test_indicators_json_csv_drill_down_and_gauges(make_api: Any) -> None:
    api = await make_api()
    cid = await case_id(api, CASES[0][0])
    await post_event(api, cid, "closed", TODAY, data={"mode": "执行完毕"})
    status, report = await api.request("GET", "/api/v1/indicators", login="chenjing", role="supervisor")
    assert status == 200, report
    assert report["court"] == "辽0102" and report["to"] == TODAY.isoformat()
    codes = [i["code"] for i in report["indicators"]]
    assert codes[:4] == ["statutory_closure_rate", "zhongben_compliance_rate", "petition_closure_rate",
                         "overall_closure_rate"]
    full = next(i for i in report["indicators"] if i["code"] == "full_enforcement_rate")
    assert (full["numerator"], full["denominator"], full["value"]) == ("1", "1", 1.0)
    assert [g["judge_login"] for g in full["by_judge"]] == ["zhangwei"]

    status, mine = await api.request("GET", "/api/v1/indicators", login="lina")
    assert status == 200 and mine["judge"] == "lina"
    status, refused = await api.request("GET", "/api/v1/indicators?court=辽0102", login="liuyang", role="supervisor")
    assert (status, refused["error"]["code"]) == (403, "other_court")
    status, refused = await api.request("GET", "/api/v1/indicators", login="cms-0102", role="case_system")
    assert status == 403

    status, text = await api.request("GET", "/api/v1/indicators?format=csv", login="chenjing", role="supervisor",
                                     headers={"X-Request-Id": "csv-export-1"})
    assert status == 200
    assert text.startswith("\ufeff"), "UTF-8 with a BOM, or Excel on Chinese Windows shows 乱码"
    lines = text.lstrip("\ufeff").strip().splitlines()
    assert lines[0].startswith("indicator,name_zh,name_en,window_from,window_to,level")
    assert any(line.startswith("full_enforcement_rate,") and ",judge,辽0102,zhangwei," in line for line in lines)
    exported = await api.app[POOL].fetchrow("SELECT * FROM audit_log WHERE request_id = 'csv-export-1'")
    assert exported["action"] == "export" and exported["actor_login"] == "chenjing"

    status, drill = await api.request("GET", "/api/v1/indicators/overall_closure_rate/cases?limit=2",
                                      login="chenjing", role="supervisor")
    assert status == 200 and drill["total"] == 4 and len(drill["cases"]) == 2  # 4 of the 5 seeded 辽0102 cases open
    status, missing = await api.request("GET", "/api/v1/indicators/nope/cases", login="chenjing", role="supervisor")
    assert (status, missing["error"]["code"]) == (404, "indicator_not_found")

    worker = api.app[LIFECYCLE_WORKER]
    assert await worker.refresh_gauges() > 0
    status, metrics_text = await api.request("GET", "/metrics")
    assert status == 200
    assert 'enforcement_indicator_value{court="辽0102",indicator="full_enforcement_rate"} 1.0' in metrics_text


async def test_an_organization_debtors_legal_representative_at_a_star_hotel_breaches_its_order(make_api: Any) -> None:
    """Issue 16 item 6: the order on an organization binds its legal representative; a 全网查询 of the
    organization searches the hotel agency (only) for him, for this case, and his star-rated stay
    after the order is a breach of the organization's order, alerted and shown in the dossier."""
    api = await make_api(lifecycle_tick_seconds=0.2)
    rep = CASES[0][-1][0]  # 赵建国: the hotel registry has him at 北京饭店 (5 stars) on 2020-09-14
    company = {"kind": "organization", "id_number": make_credit_code("9", "1", "210102", "MA0YQ7N3"),
               "name": "沈阳某贸易有限公司",
               "responsible_persons": [{"name": rep.name, "id_number": rep.id_number, "role": "法定代表人"}]}
    applicant = {"kind": "organization", "id_number": make_credit_code("9", "1", "210102", "MA0Y8R2K"),
                 "name": "沈阳银信小额贷款有限公司"}
    status, pushed = await api.request("POST", "/api/v1/cases", login="cms-0102", role="case_system", json={
        "case_number": "（2019）辽0102执89号", "court_code": "辽0102",
        "judge": {"login": "zhangwei", "name": "张伟", "officer_id": "2101020031"}, "applicant": applicant,
        "debtors": [company], "cause": "买卖合同纠纷", "amount_to_enforce": "80000.00", "filed_on": "2019-01-07"})
    assert status == 201, pushed
    cid = pushed["case"]["id"]
    assert pushed["case"]["debtors"][0]["responsible_persons"] == [
        {"name": rep.name, "id_number": rep.id_number, "role": "法定代表人"}]
    status, refused = await api.request("POST", f"/api/v1/cases/{cid}/breach-check", login="lina")
    assert (status, refused["error"]["code"]) == (403, "not_case_judge")
    status, nothing = await api.request("POST", f"/api/v1/cases/{cid}/breach-check", login="zhangwei")
    assert (status, nothing["searches"], nothing["agencies"]) == (202, [], ["hotels"])  # no order yet: no search
    status, _ = await post_event(api, cid, "consumption_restriction_issued", date(2019, 6, 1))
    assert status == 201
    status, body = await api.request("POST", "/api/v1/searches", login="zhangwei", json={
        "case_id": cid, "subject": {k: company[k] for k in ("kind", "id_number", "name")}})
    assert status == 202, body

    async def breach_alerts() -> list[Any]:
        status, listed = await api.request("GET", f"/api/v1/alerts?case_id={cid}&kind=consumption_breach",
                                           login="zhangwei")
        assert status == 200
        return list(listed["alerts"])

    [alert] = await wait_for(breach_alerts)
    assert alert["evidence"]["stay"]["hotel_name"] == "北京饭店"
    assert alert["evidence"]["bound_person"] == {"role": "法定代表人", "name": rep.name,
                                                 "debtor_name": "沈阳某贸易有限公司"}
    assert alert["evidence"]["order"]["issued_on"] == "2019-06-01"
    pool = api.app[POOL]
    person_search = await pool.fetchrow(
        "SELECT id, purpose, requested_by FROM search WHERE case_id = $1 AND subject_kind = 'person'", cid)
    assert (person_search["purpose"], person_search["requested_by"]) == ("限制消费核查", "zhangwei")
    agencies = await pool.fetch("SELECT agency FROM agency_task WHERE search_id = $1", person_search["id"])
    assert [a["agency"] for a in agencies] == ["hotels"]  # not his bank accounts: he is not a debtor
    audit = await pool.fetchrow("SELECT actor_login, actor_role, purpose FROM audit_log WHERE target = $1",
                                str(person_search["id"]))
    assert dict(audit) == {"actor_login": "zhangwei", "actor_role": "judge", "purpose": "限制消费核查"}
    view = await api.wait_search(str(person_search["id"]), "zhangwei")
    flags = [a for a in view["alerts"] if a["kind"] == "consumption_breach"]
    assert [f["evidence"]["bound_person"]["role"] for f in flags] == ["法定代表人"]
    # The explicit breach check searches him again (the same alert: one per order and stay).
    status, again = await api.request("POST", f"/api/v1/cases/{cid}/breach-check", login="zhangwei")
    assert status == 202 and [s["roles"] for s in again["searches"]] == [["法定代表人"]]
