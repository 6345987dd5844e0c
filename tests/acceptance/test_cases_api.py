"""The case registry over HTTP: the court's case-management system pushes cases (one, or NDJSON
many, idempotent by case number); judges and supervisors list and read them."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from enforcement.api.keys import POOL
from enforcement.domain.identifiers import make_credit_code, make_resident_id

CMS = {"login": "cms-0102", "role": "case_system"}
TODAY = date.today()


def person(seq: int, name: str, birth: date = date(1980, 1, 1)) -> dict[str, str]:
    return {"kind": "person", "id_number": make_resident_id("210102", birth, seq), "name": name}


def case(serial: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "case_number": f"（2026）辽0102执{serial}号",
        "court_code": "辽0102",
        "judge": {"login": "zhangwei", "name": "张伟", "officer_id": "2101020031"},
        "applicant": {"kind": "organization", "id_number": make_credit_code("9", "1", "210102", "MA0Y8R2K"),
                      "name": "沈阳银信小额贷款有限公司"},
        "debtors": [person(serial % 1000, "测试债务人")],
        "cause": "借款合同纠纷",
        "amount_to_enforce": "10000.00",
        "filed_on": (TODAY - timedelta(days=20)).isoformat(),
    }
    body.update(changes)
    return body


def ndjson(*rows: Any) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode()) + b"\n" for r in rows)


async def refusals(api: Any, request_id: str) -> list[Any]:
    return list(await api.app[POOL].fetch("SELECT * FROM audit_log WHERE request_id = $1 AND action = 'refusal'",
                                          request_id))


async def test_push_is_idempotent_by_case_number(make_api: Any) -> None:
    api = await make_api()
    status, body = await api.request("POST", "/api/v1/cases", json=case(7001), **CMS)
    assert status == 201, body
    assert body["outcome"] == "created"
    got = body["case"]
    assert got["case_number"] == "（2026）辽0102执7001号" and got["judge"]["login"] == "zhangwei"
    assert got["amount_to_enforce"] == "10000.00" and got["status"] == "open" and got["overdue"] is False
    assert got["debtors"][0]["name"] == "测试债务人" and got["court_name"] == "沈阳市和平区人民法院"

    status, again = await api.request("POST", "/api/v1/cases", json=case(7001), **CMS)
    assert (status, again["outcome"], again["case"]["id"]) == (200, "unchanged", got["id"])

    changed = case(7001, amount_to_enforce=12000, debtors=[person(7, "另一债务人"), person(8, "第三人")])
    status, upd = await api.request("POST", "/api/v1/cases", json=changed, **CMS)
    assert (status, upd["outcome"], upd["case"]["amount_to_enforce"]) == (200, "updated", "12000.00")
    assert sorted(d["name"] for d in upd["case"]["debtors"]) == ["另一债务人", "第三人"]
    n = await api.app[POOL].fetchval("SELECT count(*) FROM case_party WHERE case_id = $1 AND role = 'debtor'",
                                     got["id"])
    assert n == 2


async def test_only_the_courts_own_case_system_pushes(make_api: Any) -> None:
    api = await make_api()
    status, body = await api.request("POST", "/api/v1/cases", json=case(7002), login="chenjing", role="supervisor",
                                     headers={"X-Request-Id": "push-by-supervisor"})
    assert (status, body["error"]["code"]) == (403, "role_cannot_push_cases")
    assert len(await refusals(api, "push-by-supervisor")) == 1

    other = case(7003, case_number="（2026）辽0103执7003号", court_code="辽0103", judge=None)
    status, body = await api.request("POST", "/api/v1/cases", json=other, headers={"X-Request-Id": "push-other"},
                                     **CMS)
    assert (status, body["error"]["code"]) == (403, "other_court")
    [rec] = await refusals(api, "push-other")
    assert (rec["case_number"], rec["case_court"], rec["actor_login"]) == (
        "（2026）辽0103执7003号", "辽0103", "cms-0102")
    assert await api.app[POOL].fetchval("SELECT count(*) FROM enforcement_case WHERE case_number LIKE '%7003号'") == 0


async def test_a_new_judge_is_provisioned_and_a_foreign_one_refused(make_api: Any) -> None:
    api = await make_api()
    new_judge = {"login": "zhaolei", "name": "赵磊", "officer_id": "2101020099"}
    status, body = await api.request("POST", "/api/v1/cases", json=case(7004, judge=new_judge), **CMS)
    assert status == 201, body
    status, mine = await api.request("GET", "/api/v1/cases", login="zhaolei")
    assert status == 200 and [c["case_number"] for c in mine["items"]] == ["（2026）辽0102执7004号"]

    status, body = await api.request("POST", "/api/v1/cases",
                                     json=case(7005, judge={"login": "wangfang", "name": "王芳"}), **CMS)
    assert (status, body["error"]["code"], body["error"]["details"]["field"]) == (422, "judge_other_court",
                                                                                  "judge/login")
    status, body = await api.request("POST", "/api/v1/cases",
                                     json=case(7006, judge={"login": "chenjing", "name": "陈静"}), **CMS)
    assert (status, body["error"]["code"]) == (422, "judge_not_a_judge")


async def test_a_bad_case_is_refused_naming_field_and_rule_but_never_the_number(make_api: Any) -> None:
    api = await make_api()
    bad = case(7007)
    bad["debtors"][0]["id_number"] = bad["debtors"][0]["id_number"][:-1] + "0"
    if bad["debtors"][0]["id_number"] == case(7007)["debtors"][0]["id_number"]:
        bad["debtors"][0]["id_number"] = bad["debtors"][0]["id_number"][:-1] + "1"
    status, body = await api.request("POST", "/api/v1/cases", json=bad, **CMS)
    assert (status, body["error"]["code"]) == (422, "invalid_resident_id")
    assert bad["debtors"][0]["id_number"] not in json.dumps(body, ensure_ascii=False)
    assert "测试债务人" not in json.dumps(body, ensure_ascii=False)
    missing = case(7008)
    del missing["filed_on"]
    status, body = await api.request("POST", "/api/v1/cases", json=missing, **CMS)
    assert (status, body["error"]["code"], body["error"]["details"]["field"]) == (422, "missing_field", "filed_on")


async def test_import_keeps_good_rows_and_reports_bad_ones_by_line(make_api: Any) -> None:
    api = await make_api()
    bad_id = case(7102)
    bad_id["debtors"][0]["id_number"] = "210102198001019999"
    no_number = case(7103)
    del no_number["case_number"]
    body = ndjson(
        case(7101),                                        # 1 good
        b'{"case_number": "broken",',                      # 2 malformed JSON
        bad_id,                                            # 3 invalid resident ID
        b"",                                               # 4 blank: skipped
        no_number,                                         # 5 missing field
        case(7104, case_number="（2026）辽0103执7104号", court_code="辽0103", judge=None),  # 6 another court
        case(7105, amount_to_enforce="-5"),                # 7 schema: amount
        b"[1, 2, 3]",                                      # 8 not an object
        b"\xff\xfe not utf-8",                             # 9 not UTF-8
        b'{"x": "' + b"a" * (70 * 1024) + b'"}',           # 10 too long
        case(7106, extra_field=1),                         # 11 unknown field
        case(7107, status="closed"),                       # 12 closed without closure
        case(7108),                                        # 13 good
    )
    status, report = await api.request("POST", "/api/v1/cases:import", data=body,
                                       headers={"Content-Type": "application/x-ndjson", "X-Request-Id": "imp-1"},
                                       **CMS)
    assert status == 200, report
    # 12 non-blank lines (line 4 is blank), each accepted or rejected; numbers as the sender counts them
    assert (report["lines"], report["accepted"], report["created"], report["rejected_count"]) == (12, 2, 2, 10)
    by_line = {r["line"]: r for r in report["rejected"]}
    assert {n: r["code"] for n, r in by_line.items()} == {
        2: "malformed_json", 3: "invalid_resident_id", 5: "missing_field", 6: "other_court", 7: "schema_violation",
        8: "wrong_type", 9: "invalid_utf8", 10: "line_too_long", 11: "unknown_field", 12: "closure_incomplete",
    }
    assert by_line[5]["field"] == "case_number" and by_line[3]["case_number"] == "（2026）辽0102执7102号"
    assert by_line[7]["field"] == "amount_to_enforce" and by_line[3]["field"] == "debtors/0"
    assert all(r["message"]["zh"] and r["message"]["en"] for r in report["rejected"])
    assert "210102198001019999" not in json.dumps(report, ensure_ascii=False)
    assert [(c["line"], c["outcome"]) for c in report["cases"]] == [(1, "created"), (13, "created")]
    stored = {r["case_number"] for r in await api.app[POOL].fetch("SELECT case_number FROM enforcement_case")}
    assert {"（2026）辽0102执7101号", "（2026）辽0102执7108号"} <= stored
    assert not any(n.endswith(("7102号", "7104号", "7105号", "7107号")) for n in stored)
    [refusal] = await refusals(api, "imp-1")  # the other court's row is an audited refusal
    assert refusal["reason"] == "other_court" and refusal["details"]["lines"] == [6]

    status, again = await api.request("POST", "/api/v1/cases:import", data=ndjson(case(7101), case(7108)),
                                      headers={"Content-Type": "application/x-ndjson"}, **CMS)
    assert (status, again["unchanged"], again["created"], again["rejected_count"]) == (200, 2, 0, 0)


async def test_import_refuses_oversized_input(make_api: Any) -> None:
    api = await make_api(case_import_max_bytes=4096, case_import_max_lines=2)
    status, body = await api.request("POST", "/api/v1/cases:import", data=b"{}\n" * 2000,
                                     headers={"Content-Type": "application/x-ndjson"}, **CMS)
    assert (status, body["error"]["code"]) == (413, "payload_too_large")

    async def chunked() -> Any:  # no Content-Length: the limit is enforced while reading
        for _ in range(100):
            yield b"{}\n" * 20

    status, body = await api.request("POST", "/api/v1/cases:import", data=chunked(),
                                     headers={"Content-Type": "application/x-ndjson"}, **CMS)
    assert (status, body["error"]["code"]) == (413, "payload_too_large")

    status, report = await api.request("POST", "/api/v1/cases:import", data=ndjson(case(7201), case(7202), case(7203)),
                                       headers={"Content-Type": "application/x-ndjson"}, **CMS)
    assert status == 200
    assert report["created"] == 2 and [(r["line"], r["code"]) for r in report["rejected"]] == [(3, "too_many_lines")]

    status, body = await api.request("POST", "/api/v1/cases:import", data=b"{}", **CMS,
                                     headers={"Content-Type": "application/json"})
    assert (status, body["error"]["code"]) == (400, "bad_content_type")


async def test_lists_follow_the_judge_and_the_court(make_api: Any) -> None:
    api = await make_api()
    old = case(7301, filed_on=(TODAY - timedelta(days=200)).isoformat())
    old_nl = case(7302, filed_on=(TODAY - timedelta(days=100)).isoformat(), non_litigation=True)
    fresh_nl = case(7303, filed_on=(TODAY - timedelta(days=60)).isoformat(), non_litigation=True)
    closed = case(7304, filed_on=(TODAY - timedelta(days=300)).isoformat(), status="closed",
                  closure_mode="执行完毕", closed_on=(TODAY - timedelta(days=10)).isoformat())
    for c in (old, old_nl, fresh_nl, closed):
        status, _ = await api.request("POST", "/api/v1/cases", json=c, **CMS)
        assert status == 201

    status, mine = await api.request("GET", "/api/v1/cases?limit=100", login="zhangwei")
    assert status == 200
    assert {c["judge"]["login"] for c in mine["items"]} == {"zhangwei"} and mine["total"] == len(mine["items"])
    numbers = {c["case_number"] for c in mine["items"]}
    assert "（2026）辽0102执1410号" not in numbers  # lina's

    status, overdue = await api.request("GET", "/api/v1/cases?overdue=true&limit=100", login="zhangwei")
    got = {c["case_number"] for c in overdue["items"]}
    assert {"（2026）辽0102执7301号", "（2026）辽0102执7302号"} <= got
    assert not got & {"（2026）辽0102执7303号", "（2026）辽0102执7304号"}
    assert all(c["overdue"] and c["statutory_deadline"] < TODAY.isoformat() for c in overdue["items"])

    status, closed_list = await api.request("GET", "/api/v1/cases?status=closed", login="zhangwei")
    assert [c["case_number"] for c in closed_list["items"]] == ["（2026）辽0102执7304号"]
    assert closed_list["items"][0]["closure_mode"] == "执行完毕"

    window = (f"filed_from={(TODAY - timedelta(days=110)).isoformat()}"
              f"&filed_to={(TODAY - timedelta(days=50)).isoformat()}")
    status, windowed = await api.request("GET", f"/api/v1/cases?{window}&limit=100", login="zhangwei")
    assert all(TODAY - timedelta(days=110) <= date.fromisoformat(c["filed_on"]) <= TODAY - timedelta(days=50)
               for c in windowed["items"])
    assert {"（2026）辽0102执7302号", "（2026）辽0102执7303号"} <= {c["case_number"] for c in windowed["items"]}

    status, page = await api.request("GET", "/api/v1/cases?limit=2&offset=1", login="zhangwei")
    assert len(page["items"]) == 2 and page["total"] == mine["total"]

    status, court = await api.request("GET", "/api/v1/cases?limit=500", login="chenjing", role="supervisor")
    assert {c["court_code"] for c in court["items"]} == {"辽0102"}
    assert {c["judge"]["login"] for c in court["items"]} >= {"zhangwei", "lina"}
    status, linas = await api.request("GET", "/api/v1/cases?judge=lina", login="chenjing", role="supervisor")
    assert {c["judge"]["login"] for c in linas["items"]} == {"lina"}
    status, other = await api.request("GET", "/api/v1/cases", login="liuyang", role="supervisor")
    assert {c["court_code"] for c in other["items"]} == {"辽0103"}

    status, body = await api.request("GET", "/api/v1/cases?status=bogus", login="zhangwei")
    assert (status, body["error"]["code"]) == (422, "invalid_parameter")
    status, body = await api.request("GET", "/api/v1/cases?filed_from=yesterday", login="zhangwei")
    assert (status, body["error"]["code"]) == (422, "invalid_parameter")


async def test_a_case_with_parties_events_and_searches(make_api: Any) -> None:
    api = await make_api()
    cid = await api.app[POOL].fetchval("SELECT id FROM enforcement_case WHERE case_number = '（2026）辽0102执1187号'")
    await api.app[POOL].execute("INSERT INTO case_event (case_id, event_type, occurred_on, data) "
                                "VALUES ($1, 'notice_served', current_date - 5, '{\"doc\": \"执行通知书\"}')", cid)
    status, detail = await api.request("GET", f"/api/v1/cases/{cid}", login="zhangwei")
    assert status == 200
    debtor = detail["debtors"][0]
    status, submitted = await api.request("POST", "/api/v1/searches", login="zhangwei",
                                          json={"case_id": cid, "subject": debtor, "purpose": "下落查找"})
    assert status == 202
    status, detail = await api.request("GET", f"/api/v1/cases/{cid}", login="zhangwei")
    assert len(detail["debtors"]) == 2 and detail["applicant"]["name"] == "孙丽华"
    assert detail["applicant"]["id_number"] and detail["amount_to_enforce"] == "120000.00"
    assert [e["type"] for e in detail["events"]] == ["notice_served"]
    assert [(s["purpose"], s["subject"]["id_number"]) for s in detail["searches"]] == [
        ("下落查找", debtor["id_number"])]
    assert detail["searches"][0]["agencies"] == len(submitted["agencies"])

    status, _ = await api.request("GET", f"/api/v1/cases/{cid}", login="chenjing", role="supervisor")
    assert status == 200
    for login, role, code in (("lina", "judge", "not_case_judge"), ("liuyang", "supervisor", "other_court"),
                              ("cms-0102", "case_system", "role_cannot_read")):
        status, body = await api.request("GET", f"/api/v1/cases/{cid}", login=login, role=role)
        assert (status, body["error"]["code"]) == (403, code), login
    status, body = await api.request("GET", "/api/v1/cases/999999", login="zhangwei")
    assert (status, body["error"]["code"]) == (404, "case_not_found")
    status, body = await api.request("GET", "/api/v1/cases/abc", login="zhangwei")
    assert status == 404


async def test_overdue_follows_the_lifecycle_deadline_once_computed(make_api: Any) -> None:
    """The case lifecycle (issue 5) moves the deadline for suspensions and extensions, and stops it
    while a case is suspended; the case list follows it once it has computed a case."""
    api = await make_api()
    old = TODAY - timedelta(days=250)
    for serial in (7401, 7402, 7403):
        status, _ = await api.request("POST", "/api/v1/cases", json=case(serial, filed_on=old.isoformat()), **CMS)
        assert status == 201
    pool = api.app[POOL]
    ids = {n: await pool.fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", f"（2026）辽0102执{n}号")
           for n in (7401, 7402, 7403)}
    extended = TODAY + timedelta(days=30)
    for n, deadline in ((7402, extended), (7403, None)):  # extended; clock stopped (suspended)
        await pool.execute(
            "INSERT INTO case_lifecycle (case_id, filed_on, non_litigation, base_months, deadline, params) "
            "VALUES ($1, $2, false, 6, $3, 'test')", ids[n], old, deadline)
    status, body = await api.request("GET", "/api/v1/cases?overdue=true&limit=500", login="zhangwei")
    overdue = {c["case_number"] for c in body["items"]}
    assert "（2026）辽0102执7401号" in overdue and not overdue & {"（2026）辽0102执7402号", "（2026）辽0102执7403号"}
    status, detail = await api.request("GET", f"/api/v1/cases/{ids[7402]}", login="zhangwei")
    assert (detail["statutory_deadline"], detail["overdue"]) == (extended.isoformat(), False)
    status, detail = await api.request("GET", f"/api/v1/cases/{ids[7403]}", login="zhangwei")
    assert (detail["statutory_deadline"], detail["overdue"]) == (None, False)


async def test_the_list_is_searched_and_sorted_by_urgency_by_default(make_api: Any) -> None:
    api = await make_api()
    far = case(7401, filed_on=(TODAY - timedelta(days=660)).isoformat(), amount_to_enforce="2680000.00",
               debtors=[person(401, "欧阳紧急")])
    near = case(7402, filed_on=(TODAY - timedelta(days=200)).isoformat(), amount_to_enforce="500.00")
    rich = case(7403, filed_on=(TODAY - timedelta(days=200)).isoformat(), amount_to_enforce="900000.00")
    fresh = case(7404, filed_on=(TODAY - timedelta(days=1)).isoformat(), amount_to_enforce="1.00")
    closed = case(7405, filed_on=(TODAY - timedelta(days=900)).isoformat(), status="closed",
                  closure_mode="执行完毕", closed_on=(TODAY - timedelta(days=10)).isoformat())
    for c in (near, fresh, far, closed, rich):
        status, _ = await api.request("POST", "/api/v1/cases", json=c, **CMS)
        assert status == 201

    status, listed = await api.request("GET", "/api/v1/cases?limit=500", login="zhangwei")
    assert status == 200
    order = [c["case_number"] for c in listed["items"]]
    ours = [n for n in order if "执74" in n]
    # Furthest past the deadline first; the same deadline: the larger amount; closed last.
    assert ours == [far["case_number"], rich["case_number"], near["case_number"], fresh["case_number"],
                    closed["case_number"]], ours
    assert order[0] == far["case_number"] and order[-1] == closed["case_number"]

    status, by_filing = await api.request("GET", "/api/v1/cases?limit=500&sort=filed_desc", login="zhangwei")
    ours = [c["case_number"] for c in by_filing["items"] if "执74" in c["case_number"]]
    assert ours[0] == fresh["case_number"] and ours[-1] == closed["case_number"]

    debtor_id = far["debtors"][0]["id_number"]
    for q in ("执7401", "(2026)辽0102执7401", "欧阳紧", debtor_id[-8:], debtor_id.lower()):
        status, found = await api.request("GET", "/api/v1/cases", params={"q": q}, login="zhangwei")
        assert status == 200, found
        assert [c["case_number"] for c in found["items"]] == [far["case_number"]], q
    status, found = await api.request("GET", "/api/v1/cases", params={"q": "%"}, login="zhangwei")
    assert found["items"] == []  # a pattern character is taken literally
    # Another judge's case is not found by its number: the scope holds.
    status, found = await api.request("GET", "/api/v1/cases", params={"q": "执1410"}, login="zhangwei")
    assert found["items"] == []

    for bad in ({"sort": "amount"}, {"q": "x" * 101}):
        status, body = await api.request("GET", "/api/v1/cases", params=bad, login="zhangwei")
        assert (status, body["error"]["code"]) == (422, "invalid_parameter"), bad
