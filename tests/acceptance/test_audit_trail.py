"""The audit trail over HTTP: a search and its record commit together; every dossier read and
refusal is recorded with who, role, court, case, subject, purpose, time and request id; a
supervisor reads their court's trail, subjects masked; the app's chainer chains every record
within moments of its action; the chain verifies."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from enforcement.api.keys import AUDIT, POOL
from enforcement.kernel.audit_chainer import AUDIT_CHAINER
from enforcement.seeds import CASES

NUMBER, _, JUDGE, *_ = CASES[0]
DEBTOR = CASES[0][-1][0]
SUBJECT = {"kind": DEBTOR.kind, "id_number": DEBTOR.id_number, "name": DEBTOR.name}


async def case_id(api: Any) -> int:
    value: int = await api.app[POOL].fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", NUMBER)
    return value


async def chained(api: Any) -> None:
    """Wait until the app's chainer has chained every record written so far."""
    async with asyncio.timeout(10):
        await api.app[AUDIT_CHAINER].drain()


async def by_request(api: Any, request_id: str) -> list[Any]:
    return list(await api.app[POOL].fetch("SELECT * FROM audit_log WHERE request_id = $1 ORDER BY seq", request_id))


async def test_a_search_is_recorded_with_its_purpose_in_its_own_transaction(make_api: Any) -> None:
    api = await make_api()
    cid = await case_id(api)
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, headers={"X-Request-Id": "search-1"},
                                     json={"case_id": cid, "subject": SUBJECT, "purpose": "终本复查"})
    assert status == 202
    [rec] = await by_request(api, "search-1")
    assert (rec["action"], rec["actor_login"], rec["actor_role"], rec["actor_court"]) == ("search", JUDGE, "judge",
                                                                                          "辽0102")
    assert (rec["case_id"], rec["case_number"], rec["case_court"]) == (cid, NUMBER, "辽0102")
    assert (rec["subject_key"], rec["purpose"], rec["target"]) == (f"person:{DEBTOR.id_number}", "终本复查", body["id"])
    assert rec["details"]["agencies"] == sorted(a["agency"] for a in body["agencies"])
    search_at = await api.app[POOL].fetchval("SELECT created_at FROM search WHERE id = $1", uuid.UUID(body["id"]))
    assert abs((rec["at"] - search_at).total_seconds()) < 5
    # Its place in the chain follows: the chainer running in the app, woken by the commit.
    async with asyncio.timeout(10):
        while await api.app[POOL].fetchval("SELECT seq FROM audit_log WHERE id = $1", rec["id"]) is None:
            await asyncio.sleep(0.01)
    async with api.app[POOL].acquire() as conn:
        assert (await api.app[AUDIT].verify(conn)).ok


async def test_no_search_without_its_audit_record(make_api: Any) -> None:
    """If the audit record cannot be written, the search is not made either (one transaction)."""
    api = await make_api()
    cid = await case_id(api)
    pool = api.app[POOL]
    # The search's record cannot be written now (a constraint refuses it).
    await pool.execute("ALTER TABLE audit_log ADD CONSTRAINT no_search_records CHECK (action <> 'search') NOT VALID")
    api.validate = False  # a 500 is not part of the contract
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, json={"case_id": cid, "subject": SUBJECT})
    assert status == 500, body
    assert await pool.fetchval("SELECT count(*) FROM search") == 0
    assert await pool.fetchval("SELECT count(*) FROM agency_task") == 0
    assert await pool.fetchval("SELECT count(*) FROM audit_log") == 0


async def test_reads_and_refusals_are_recorded(make_api: Any) -> None:
    api = await make_api()
    cid = await case_id(api)
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, json={"case_id": cid, "subject": SUBJECT})
    search_id = body["id"]
    await api.wait_search(search_id, JUDGE)

    status, _ = await api.request("GET", f"/api/v1/searches/{search_id}", login="chenjing", role="supervisor",
                                  headers={"X-Request-Id": "read-1"})
    assert status == 200
    [read] = await by_request(api, "read-1")
    assert (read["action"], read["actor_login"], read["actor_role"], read["target"], read["details"]) == (
        "dossier_read", "chenjing", "supervisor", search_id, {"via": "view"})
    assert read["subject_key"] == f"person:{DEBTOR.id_number}" and read["purpose"] == "财产调查"

    token = api.token(JUDGE, "judge")
    async with api.session.get(api.url(f"/api/v1/searches/{search_id}/events"),
                               headers={"Authorization": f"Bearer {token}", "X-Request-Id": "stream-1"}) as resp:
        assert resp.status == 200
        await resp.read()
    [stream] = await by_request(api, "stream-1")
    assert (stream["action"], stream["details"]) == ("dossier_read", {"via": "events"})

    status, body = await api.request("GET", f"/api/v1/searches/{search_id}", login="liuyang", role="supervisor",
                                     headers={"X-Request-Id": "refused-1"})
    assert (status, body["error"]["code"]) == (403, "other_court")
    [refusal] = await by_request(api, "refused-1")
    assert (refusal["action"], refusal["reason"], refusal["actor_court"], refusal["case_court"]) == (
        "refusal", "other_court", "辽0103", "辽0102")
    assert refusal["subject_key"] == f"person:{DEBTOR.id_number}"
    assert refusal["target"] == "GET /api/v1/searches/{search_id}"
    assert refusal["details"] == {"attempted": "dossier_read"}

    await chained(api)
    async with api.app[POOL].acquire() as conn:
        result = await api.app[AUDIT].verify(conn)
    assert result.ok and result.checked == await api.app[POOL].fetchval("SELECT count(*) FROM audit_log")


async def test_a_supervisor_reads_their_courts_trail_with_subjects_masked(make_api: Any) -> None:
    api = await make_api()
    cid = await case_id(api)
    for purpose in ("财产调查", "下落查找", "终本复查"):
        status, _ = await api.request("POST", "/api/v1/searches", login=JUDGE,
                                      json={"case_id": cid, "subject": SUBJECT, "purpose": purpose,
                                            "force_fresh": True})
        assert status == 202
    other_cid = await api.app[POOL].fetchval("SELECT id FROM enforcement_case WHERE court_code = '辽0103' LIMIT 1")
    await api.request("GET", f"/api/v1/cases/{other_cid}", login="lina")  # a 辽0102 judge refused at 辽0103
    await chained(api)  # the trail lists chained records

    status, trail = await api.request("GET", "/api/v1/audit?action=search", login="chenjing", role="supervisor")
    assert status == 200 and trail["court_code"] == "辽0102"
    assert [r["purpose"] for r in trail["items"]] == ["终本复查", "下落查找", "财产调查"]  # newest first
    for r in trail["items"]:
        shown = r["subject"]["id_number"]
        assert shown != DEBTOR.id_number and shown.endswith(DEBTOR.id_number[-4:])
        assert r["actor"] == {"login": JUDGE, "role": "judge", "court_code": "辽0102"}
        assert len(r["hash"]) == 64 and r["case"]["case_number"] == NUMBER
    assert DEBTOR.id_number not in str(trail) and DEBTOR.name not in str(trail)

    status, page1 = await api.request("GET", "/api/v1/audit?action=search&limit=2", login="chenjing",
                                      role="supervisor")
    assert len(page1["items"]) == 2 and page1["next_before"] == page1["items"][-1]["seq"]
    status, page2 = await api.request("GET", f"/api/v1/audit?action=search&limit=2&before={page1['next_before']}",
                                      login="chenjing", role="supervisor")
    assert [r["purpose"] for r in page2["items"]] == ["财产调查"] and page2["next_before"] is None

    status, theirs = await api.request("GET", "/api/v1/audit", login="liuyang", role="supervisor")
    assert status == 200
    # 辽0103 sees the refusal at its own case (lina's attempt), nothing of 辽0102's own searches.
    assert [(r["action"], r["actor"]["login"]) for r in theirs["items"]] == [("refusal", "lina")]
    status, mine = await api.request("GET", f"/api/v1/audit?case_id={cid}&actor={JUDGE}", login="chenjing",
                                     role="supervisor")
    assert len(mine["items"]) == 3
    status, body = await api.request("GET", "/api/v1/audit", login=JUDGE)
    assert (status, body["error"]["code"]) == (403, "role_cannot_read_audit")
    status, body = await api.request("GET", "/api/v1/audit?since=yesterday", login="chenjing", role="supervisor")
    assert (status, body["error"]["code"]) == (422, "invalid_parameter")
