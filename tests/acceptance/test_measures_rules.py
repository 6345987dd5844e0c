"""Control measures, the rules around them over real HTTP (issue 17): what a case closed as 终本
(or otherwise) still allows; the permission before the body on every measure POST; a held
deduction rejected by the supervisor or withdrawn by the judge, never sent; each court's own
approval amount."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import aiohttp

from enforcement.api.keys import POOL
from enforcement.measures.keys import MEASURE_CLOCK
from enforcement.seeds import CASES
from tests.acceptance.test_measures import JUDGE, OTHER_JUDGE, bank_view, found_account, ruling, wait_measure
from tests.acceptance.test_search_flow import case_id, search_body

SUPERVISOR = "chenjing"  # 辽0102, the court of CASES[0]


async def sim_stats(simulators: Any, agency: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as s, s.get(f"{simulators[agency].url}/_sim/stats") as r:
        return dict(await r.json())


async def freeze_of(api: Any, cid: int, account: dict[str, Any], n: int = 1, login: str = JUDGE) -> dict[str, Any]:
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=login, json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": account["natural_key"],
        "ruling": ruling(api.app[MEASURE_CLOCK].today(), n)})
    assert status == 202, body
    return await wait_measure(api, body["id"], login=login)


class Refusals:
    """Each refusal: the status and code, both messages, and exactly one refusal record naming the case."""

    def __init__(self, api: Any, cid: int) -> None:
        self.api, self.cid, self.pool = api, cid, api.app[POOL]

    async def __call__(self, method: str, path: str, login: str, status: int, code: str, *,
                       role: str = "judge", **kwargs: Any) -> None:
        before = await self.pool.fetchval("SELECT max(id) FROM audit_log")
        got, answer = await self.api.request(method, path, login=login, role=role, **kwargs)
        assert got == status and answer["error"]["code"] == code, (path, login, answer)
        assert answer["error"]["message"]["zh"] and answer["error"]["message"]["en"]
        rows = await self.pool.fetch("SELECT action, reason, case_id FROM audit_log WHERE id > $1 ORDER BY id",
                                     before or 0)
        assert [(r["action"], r["reason"], r["case_id"]) for r in rows] == [("refusal", code, self.cid)], rows


async def test_after_zhongben_controls_are_renewed_or_released_never_new_or_deducted(
    make_api: Any, simulators: Any
) -> None:
    """终本 keeps the controls: the judge renews (the bank holds it longer) and may release; a new
    freeze and a deduction wait for the case to be resumed (403 resume_case_first, audited, nothing
    sent). After another closure (执行完毕): release only."""
    api = await make_api()
    pool = api.app[POOL]
    clock = api.app[MEASURE_CLOCK]
    cid, account = await found_account(api)
    freeze = await freeze_of(api, cid, account)
    assert freeze["status"] == "active", freeze
    refused = Refusals(api, cid)
    await pool.execute("UPDATE enforcement_case SET status = 'closed', closure_mode = '终结本次执行程序', "
                       "closed_on = current_date WHERE id = $1", cid)
    sent = (await sim_stats(simulators, "banks"))["effective_controls"]

    await refused("POST", f"/api/v1/cases/{cid}/measures", JUDGE, 403, "resume_case_first", json={
        "kind": "deduct", "measure_id": freeze["id"], "amount": "1.00", "ruling": ruling(clock.today(), 2)})
    await refused("POST", f"/api/v1/cases/{cid}/measures", JUDGE, 403, "resume_case_first", json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": account["natural_key"],
        "ruling": ruling(clock.today(), 3)})
    assert (await sim_stats(simulators, "banks"))["effective_controls"] == sent

    status, body = await api.request("POST", f"/api/v1/measures/{freeze['id']}:renew", login=JUDGE,
                                     json={"ruling": ruling(clock.today(), 4)})
    assert status == 202, body
    assert (await wait_measure(api, body["id"]))["status"] == "done"
    _, held = await bank_view(simulators, account["data"]["account_number"])
    [hold] = [f for f in held["Freezes"] if f["ControlNo"] == freeze["reference"]]
    status, renewed = await api.request("GET", f"/api/v1/measures/{freeze['id']}", login=JUDGE)
    assert renewed["expires_on"] > freeze["expires_on"], renewed
    assert hold["EndDate"] == renewed["expires_on"].replace("-", ""), hold  # the bank holds it longer

    # Another closure ends the enforcement: no renewal (403, audited), a release still.
    await pool.execute("UPDATE enforcement_case SET closure_mode = '执行完毕' WHERE id = $1", cid)
    await refused("POST", f"/api/v1/measures/{freeze['id']}:renew", JUDGE, 403, "case_closed_release_only",
                  json={"ruling": ruling(clock.today(), 5)})
    status, body = await api.request("POST", f"/api/v1/measures/{freeze['id']}:release", login=JUDGE,
                                     json={"ruling": ruling(clock.today(), 6)})
    assert status == 202, body
    assert (await wait_measure(api, body["id"]))["status"] == "done"
    _, held = await bank_view(simulators, account["data"]["account_number"])
    assert Decimal(held["Frozen"]) == 0, held


async def test_permission_comes_before_the_body_and_a_bad_body_is_audited(make_api: Any) -> None:
    """A caller without the right gets 403 whatever the body (never a 422 that tells him the body
    was wrong); the right caller's bad body is a 4xx, audited with the case."""
    api = await make_api()
    clock = api.app[MEASURE_CLOCK]
    cid, account = await found_account(api)
    freeze = await freeze_of(api, cid, account)
    refused = Refusals(api, cid)
    bad_bodies: list[dict[str, Any]] = [
        {"json": {"kind": "freeze"}},  # no ruling
        {"json": {"kind": "melt", "ruling": ruling(clock.today())}},
        {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
        {"json": [1, 2]},
    ]
    for bad in bad_bodies:
        await refused("POST", f"/api/v1/cases/{cid}/measures", OTHER_JUDGE, 403, "not_case_judge", **bad)
        await refused("POST", f"/api/v1/cases/{cid}/measures", SUPERVISOR, 403, "role_cannot_control",
                      role="supervisor", **bad)
    await refused("POST", f"/api/v1/cases/{cid}/measures", JUDGE, 422, "missing_field", json={"kind": "freeze"})
    await refused("POST", f"/api/v1/cases/{cid}/measures", JUDGE, 422, "invalid_kind",
                  json={"kind": "melt", "ruling": ruling(clock.today())})
    await refused("POST", f"/api/v1/cases/{cid}/measures", JUDGE, 400, "malformed_json",
                  data=b"{not json", headers={"Content-Type": "application/json"})
    for action in ("renew", "release"):
        path = f"/api/v1/measures/{freeze['id']}:{action}"
        await refused("POST", path, OTHER_JUDGE, 403, "not_case_judge", json={"ruling": "no"})
        await refused("POST", path, JUDGE, 422, "missing_field", json={"ruling": "no"})
        await refused("POST", path, JUDGE, 400, "not_an_object", json=["x"])
    path = f"/api/v1/measures/{freeze['id']}:reject"
    await refused("POST", path, JUDGE, 403, "approval_requires_supervisor", json={"reason": 7})
    await refused("POST", path, SUPERVISOR, 422, "wrong_type", role="supervisor", json={"reason": 7})
    await refused("POST", path, SUPERVISOR, 422, "missing_field", role="supervisor", json={})
    await refused("POST", f"/api/v1/measures/{freeze['id']}:withdraw", SUPERVISOR, 403, "not_case_judge",
                  role="supervisor", data=b"[", headers={"Content-Type": "application/json"})
    assert await api.app[POOL].fetchval("SELECT count(*) FROM measure") == 1  # nothing written, nothing sent


async def test_a_held_deduction_is_rejected_or_withdrawn_and_never_reaches_the_bank(
    make_api: Any, simulators: Any
) -> None:
    api = await make_api(measure_deduction_approval_yuan=Decimal("5.00"))
    pool = api.app[POOL]
    clock = api.app[MEASURE_CLOCK]
    cid, account = await found_account(api)
    number = account["data"]["account_number"]
    freeze = await freeze_of(api, cid, account)
    frozen = Decimal(freeze["effect_amount"])
    sent = (await sim_stats(simulators, "banks"))["effective_controls"]
    refused = Refusals(api, cid)

    async def held(n: int, amount: str) -> dict[str, Any]:
        status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
            "kind": "deduct", "measure_id": freeze["id"], "amount": amount, "ruling": ruling(clock.today(), n)})
        assert status == 202 and body["status"] == "awaiting_approval", body
        return dict(body)

    first = await held(2, "6.00")
    path = f"/api/v1/measures/{first['id']}:reject"
    await refused("POST", path, JUDGE, 403, "approval_requires_supervisor", json={"reason": "金额有误"})
    await refused("POST", path, "liuyang", 403, "approval_requires_supervisor", role="supervisor",
                  json={"reason": "金额有误"})
    await refused("POST", path, SUPERVISOR, 422, "reason_required", role="supervisor", json={"reason": "  "})
    status, rejected = await api.request("POST", path, login=SUPERVISOR, role="supervisor",
                                         json={"reason": "扣划金额与裁定不符"})
    assert status == 200, rejected
    assert (rejected["status"], rejected["task_status"]) == ("rejected", "cancelled"), rejected
    assert rejected["cancelled"]["by"] == SUPERVISOR and rejected["cancelled"]["reason"] == "扣划金额与裁定不符"
    row = await pool.fetchrow("SELECT actor_login, case_id, details FROM audit_log WHERE action = 'measure_reject'")
    assert row["actor_login"] == SUPERVISOR and row["case_id"] == cid and row["details"]["measure_id"] == first["id"]
    # Decided once: neither approved nor rejected again.
    await refused("POST", f"/api/v1/measures/{first['id']}:approve", SUPERVISOR, 409, "not_awaiting_approval",
                  role="supervisor")
    await refused("POST", path, SUPERVISOR, 409, "not_awaiting_approval", role="supervisor", json={"reason": "再次"})

    # The control is free again for a follow-up: the judge holds a new one, then withdraws it.
    second = await held(3, "7.00")
    path = f"/api/v1/measures/{second['id']}:withdraw"
    await refused("POST", path, OTHER_JUDGE, 403, "not_case_judge")
    await refused("POST", path, SUPERVISOR, 403, "not_case_judge", role="supervisor")
    status, withdrawn = await api.request("POST", path, login=JUDGE)
    assert status == 200 and (withdrawn["status"], withdrawn["task_status"]) == ("withdrawn", "cancelled"), withdrawn
    assert withdrawn["cancelled"]["by"] == JUDGE and withdrawn["cancelled"]["reason"] is None
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'measure_withdraw' AND case_id = $1",
                               cid) == 1
    await refused("POST", path, JUDGE, 409, "not_awaiting_approval")

    await asyncio.sleep(2.5)  # several dispatcher polls: nothing was claimed
    for m in (first, second):
        status, got = await api.request("GET", f"/api/v1/measures/{m['id']}", login=JUDGE)
        assert got["attempts"] == 0 and got["task_status"] == "cancelled", got
    _, bank = await bank_view(simulators, number)
    assert Decimal(bank["Frozen"]) == frozen, bank
    assert (await sim_stats(simulators, "banks"))["effective_controls"] == sent
    recovered = await pool.fetchval("SELECT count(*) FROM case_event WHERE case_id = $1 AND source = 'measures'", cid)
    assert recovered == 0


async def test_each_court_sets_its_own_approval_amount(make_api: Any) -> None:
    """Court 辽0102 holds deductions above 3.00 yuan, court 辽0103 above 50.00; the deployment's
    setting (5.00) is the default of a court that set none."""
    api = await make_api(measure_deduction_approval_yuan=Decimal("5.00"))
    pool = api.app[POOL]
    clock = api.app[MEASURE_CLOCK]
    other_number, other_court, other_judge, *_r, other_debtors = CASES[5]
    await pool.execute("UPDATE court SET measure_deduction_approval_yuan = 3.00 WHERE code = '辽0102'")
    await pool.execute("UPDATE court SET measure_deduction_approval_yuan = 50.00 WHERE code = $1", other_court)

    async def deduct(cid: int, login: str, court: str, freeze_id: int, amount: str, n: int) -> dict[str, Any]:
        status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=login, json={
            "kind": "deduct", "measure_id": freeze_id, "amount": amount,
            "ruling": {"number": f"（{clock.today().year}）{court}执{n}号", "ruled_on": clock.today().isoformat()}})
        assert status == 202, body
        return dict(body)

    cid, account = await found_account(api)
    freeze = await freeze_of(api, cid, account)
    assert (await deduct(cid, JUDGE, "辽0102", freeze["id"], "4.00", 9))["status"] == "awaiting_approval"

    other_cid = await case_id(api, other_number)
    accounts: list[dict[str, Any]] = []
    for debtor in other_debtors:
        status, body = await api.request("POST", "/api/v1/searches", login=other_judge,
                                         json=search_body(other_cid, debtor))
        assert status == 202, body
        view = await api.wait_search(body["id"], other_judge)
        accounts += [e for e in view["dossier"]["sections"].get("bank_account", [])
                     if Decimal(str(e["data"]["available_balance"])) > 60 and e["data"]["status"] != "销户"]
    assert accounts
    status, body = await api.request("POST", f"/api/v1/cases/{other_cid}/measures", login=other_judge, json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": accounts[0]["natural_key"],
        "ruling": {"number": f"（{clock.today().year}）{other_court}执1号", "ruled_on": clock.today().isoformat()}})
    assert status == 202, body
    other_freeze = await wait_measure(api, body["id"], login=other_judge)
    assert other_freeze["status"] == "active", other_freeze
    assert (await deduct(other_cid, other_judge, other_court, other_freeze["id"], "40.00", 9))["status"] == "pending"

    # A court without its own amount: the deployment's setting.
    await pool.execute("UPDATE court SET measure_deduction_approval_yuan = NULL WHERE code = $1", other_court)
    await wait_measure(api, (await api.request("GET", f"/api/v1/cases/{other_cid}/measures",
                                               login=other_judge))[1]["measures"][-1]["id"], login=other_judge)
    assert (await deduct(other_cid, other_judge, other_court, other_freeze["id"], "6.00", 10))["status"] == \
        "awaiting_approval"
