"""GET /api/v1/measures (issue 17, the supervisor's court-wide view): renewals due within the
court's notice days, lapses and deductions awaiting approval, each caller within their scope (a
supervisor their court's, a judge the cases they hold): another court's supervisor sees nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from enforcement.api.keys import POOL
from enforcement.measures.keys import MEASURE_CLOCK, MEASURE_EXPIRY
from tests.acceptance.test_measures import CASE_NUMBER, JUDGE, found_account, ruling, wait_measure

SUPERVISOR, OTHER_SUPERVISOR, SAME_COURT_JUDGE = "chenjing", "liuyang", "lina"


async def listed(api: Any, login: str, role: str = "judge", query: str = "") -> list[dict[str, Any]]:
    status, body = await api.request("GET", f"/api/v1/measures{query}", login=login, role=role)
    assert status == 200, body
    assert body["today"] == api.app[MEASURE_CLOCK].today().isoformat() and body["notice_days"] == 15
    return list(body["measures"])


async def frozen(api: Any) -> tuple[int, dict[str, Any]]:
    """The case and an active freeze (20 yuan) of an account its search found, ruled today."""
    cid, account = await found_account(api)
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": account["natural_key"],
        "amount": "20.00", "ruling": ruling(api.app[MEASURE_CLOCK].today())})
    assert status == 202, body
    freeze = await wait_measure(api, body["id"])
    assert freeze["status"] == "active", freeze
    return cid, freeze


async def test_due_lapsed_and_awaiting_approval_in_each_callers_scope(make_api: Any) -> None:
    api = await make_api(measure_deduction_approval_yuan=Decimal("5.00"))
    clock = api.app[MEASURE_CLOCK]
    cid, freeze = await frozen(api)

    # Running: not yet due, so nothing needs attention; listed only among the live controls.
    assert await listed(api, SUPERVISOR, "supervisor") == []
    assert [m["id"] for m in await listed(api, SUPERVISOR, "supervisor", "?state=live")] == [freeze["id"]]

    # Ten days before its expiry the renewal is due: the court's supervisor and the case's judge see it.
    expires = date.fromisoformat(freeze["expires_on"])
    clock.advance((expires - clock.today()).days - 10)
    for login, role in ((SUPERVISOR, "supervisor"), (JUDGE, "judge")):
        due = await listed(api, login, role, "?state=due")
        assert [(m["id"], m["state"], m["case_number"]) for m in due] == [
            (freeze["id"], "due", CASE_NUMBER)], (login, due)
        assert due[0]["expiry_state"] == "due" and due[0]["pending_follow_up"] is None
    # Another court's supervisor, and another judge of the same court: nothing.
    assert await listed(api, OTHER_SUPERVISOR, "supervisor") == []
    assert await listed(api, OTHER_SUPERVISOR, "supervisor", "?state=live") == []
    assert await listed(api, SAME_COURT_JUDGE) == []

    # A deduction above the court's set amount waits for the supervisor: listed as awaiting approval.
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
        "kind": "deduct", "measure_id": freeze["id"], "amount": "8.00", "ruling": ruling(clock.today(), 2)})
    assert status == 202 and body["status"] == "awaiting_approval", body
    held = await listed(api, SUPERVISOR, "supervisor", "?state=awaiting_approval")
    assert [(m["id"], m["kind"], m["amount"], m["parent_id"]) for m in held] == [
        (body["id"], "deduct", "8.00", freeze["id"])]
    assert await listed(api, OTHER_SUPERVISOR, "supervisor", "?state=awaiting_approval") == []
    everything = await listed(api, SUPERVISOR, "supervisor")
    assert [(m["id"], m["state"]) for m in everything] == [(freeze["id"], "due"), (body["id"], "awaiting_approval")]
    assert everything[0]["pending_follow_up"] == "deduct"
    status, approved = await api.request("POST", f"/api/v1/measures/{body['id']}:approve", login=SUPERVISOR,
                                         role="supervisor")
    assert status == 202, approved
    assert (await wait_measure(api, body["id"]))["status"] == "done"
    assert await listed(api, SUPERVISOR, "supervisor", "?state=awaiting_approval") == []

    # Past its expiry without renewal: lapsed (before and after the expiry watch sweeps it).
    clock.advance(11)
    assert [(m["id"], m["state"]) for m in await listed(api, SUPERVISOR, "supervisor", "?state=lapsed")] == [
        (freeze["id"], "lapsed")]
    await api.app[MEASURE_EXPIRY].tick()
    lapsed = await listed(api, SUPERVISOR, "supervisor", "?state=lapsed")
    assert [(m["id"], m["status"], m["expiry_state"]) for m in lapsed] == [(freeze["id"], "lapsed", "lapsed")]
    assert await listed(api, SUPERVISOR, "supervisor", "?state=due") == []
    assert await listed(api, OTHER_SUPERVISOR, "supervisor", "?state=lapsed") == []


async def test_bad_parameters_and_roles_outside_the_scope(make_api: Any) -> None:
    api = await make_api()
    for query in ("?state=frozen", "?limit=0", "?limit=501", "?limit=x"):
        status, body = await api.request("GET", f"/api/v1/measures{query}", login=SUPERVISOR, role="supervisor")
        assert status == 422 and body["error"]["code"] == "invalid_parameter", (query, body)
        assert body["error"]["message"]["zh"] and body["error"]["message"]["en"]
    for login, role in (("ops", "ops"), ("cms-0102", "case_system")):
        status, body = await api.request("GET", "/api/v1/measures", login=login, role=role)
        assert status == 403, (login, body)


async def test_a_renewal_due_offers_its_act_only_to_whom_may_take_it(make_api: Any) -> None:
    """A renewal due in the list carries the act, as its alert does: the case's judge is offered the
    renewal (the ruling defaulted to the case number and the court's date), the court's supervisor
    nothing (and is refused, audited, if he calls it); none while one is pending; on a case closed
    for good (执行完毕) the release, not the renewal; on a 终本 case the renewal."""
    api = await make_api()
    clock = api.app[MEASURE_CLOCK]
    pool = api.app[POOL]
    cid, freeze = await frozen(api)
    [live] = await listed(api, JUDGE, query="?state=live")
    assert live["actions"] == {}, live  # running, not due: nothing offered
    clock.advance((date.fromisoformat(freeze["expires_on"]) - clock.today()).days - 10)

    def act(kind: str) -> dict[str, Any]:
        return {kind: {"method": "POST", "href": f"/api/v1/measures/{freeze['id']}:{kind}",
                       "body": {"ruling": {"number": CASE_NUMBER, "ruled_on": clock.today().isoformat()}}}}

    [due] = await listed(api, JUDGE, query="?state=due")
    assert due["actions"] == act("renew"), due
    [seen] = await listed(api, SUPERVISOR, "supervisor")
    assert seen["id"] == freeze["id"] and seen["state"] == "due" and seen["actions"] == {}, seen
    # The supervisor calls it all the same: refused (403), audited, nothing sent.
    refusals = "SELECT count(*) FROM audit_log WHERE action = 'refusal' AND reason = $2 AND case_id = $1"
    before = await pool.fetchval(refusals, cid, "role_cannot_control")
    status, refused = await api.request("POST", f"/api/v1/measures/{freeze['id']}:renew", login=SUPERVISOR,
                                        role="supervisor", json={"ruling": ruling(clock.today(), 2)})
    assert status == 403 and refused["error"]["code"] == "role_cannot_control", refused
    assert await pool.fetchval(refusals, cid, "role_cannot_control") == before + 1
    assert await pool.fetchval("SELECT count(*) FROM measure WHERE parent_id = $1", freeze["id"]) == 0

    # The judge sends the offered act, its ruling number made the ruling's: pending, nothing more offered.
    offered = due["actions"]["renew"]
    body = {"ruling": {**offered["body"]["ruling"], "number": ruling(clock.today(), 2)["number"]}}
    status, renewal = await api.request(offered["method"], offered["href"], login=JUDGE, json=body)
    assert status == 202, renewal
    for login, role in ((JUDGE, "judge"), (SUPERVISOR, "supervisor")):
        rows = await listed(api, login, role, "?state=due")
        assert rows == [] or [(r["pending_follow_up"], r["actions"]) for r in rows] == [("renew", {})], rows
    assert (await wait_measure(api, renewal["id"]))["status"] == "done"
    assert await listed(api, JUDGE, query="?state=due") == []  # renewed: a year on, not due

    # Due again, on a case closed for good: the release is offered, not the renewal; on a 终本 case, the renewal.
    [live] = await listed(api, JUDGE, query="?state=live")
    clock.advance((date.fromisoformat(live["expires_on"]) - clock.today()).days - 5)
    await pool.execute("UPDATE enforcement_case SET status = 'closed', closure_mode = '执行完毕', closed_on = $2 "
                       "WHERE id = $1", cid, clock.today())
    [due] = await listed(api, JUDGE, query="?state=due")
    assert due["actions"] == act("release"), due
    assert [r["actions"] for r in await listed(api, SUPERVISOR, "supervisor", "?state=due")] == [{}]
    await pool.execute("UPDATE enforcement_case SET closure_mode = '终结本次执行程序' WHERE id = $1", cid)
    [due] = await listed(api, JUDGE, query="?state=due")
    assert due["actions"] == act("renew"), due
