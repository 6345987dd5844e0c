"""Control measures end to end over real HTTP (issue 17): freeze an account a search found and see
the bank hold it; renew before expiry by a moved clock; deduct (a recovered amount on the case);
release; renewals due and lapses alerted; bad input refused, audited and never sent."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import aiohttp

from enforcement.api.keys import POOL
from enforcement.measures.keys import MEASURE_CLOCK, MEASURE_EXPIRY
from enforcement.seeds import CASES
from tests.acceptance.test_search_flow import case_id, search_body

CASE_NUMBER, COURT, JUDGE, *_rest = CASES[0]
OTHER_JUDGE = next(c[2] for c in CASES if c[2] != JUDGE)
SUPERVISOR = "chenjing"  # 辽0102, the court of CASES[0]


def ruling(on: date, n: int = 1) -> dict[str, str]:
    return {"number": f"（{on.year}）{COURT}执{n}号", "ruled_on": on.isoformat()}


async def found_account(api: Any) -> tuple[int, dict[str, Any]]:
    """The case, and a bank account with money that a search of it found."""
    cid = await case_id(api)
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, json=search_body(cid))
    assert status == 202, body
    view = await api.wait_search(body["id"], JUDGE)
    accounts = [e for e in view["dossier"]["sections"].get("bank_account", [])
                if Decimal(str(e["data"]["available_balance"])) > 10 and e["data"]["status"] != "销户"]
    assert accounts, view["dossier"]["sections"].keys()
    return cid, accounts[0]


async def wait_measure(api: Any, measure_id: int, *, timeout: float = 20.0, login: str = JUDGE) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status, body = await api.request("GET", f"/api/v1/measures/{measure_id}", login=login)
        assert status == 200, body
        if body["status"] != "pending":
            return dict(body)
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.1)


async def bank_view(simulators: Any, number: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.get(f"{simulators['banks'].url}/_sim/accounts/{number}") as r:
        return r.status, await r.json()


async def test_freeze_renew_deduct_release(make_api: Any, simulators: Any) -> None:
    api = await make_api()
    clock = api.app[MEASURE_CLOCK]
    cid, account = await found_account(api)
    number = account["data"]["account_number"]
    today = clock.today()
    amount = (Decimal(str(account["data"]["available_balance"])) / 2).quantize(Decimal("0.01"))

    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": account["natural_key"],
        "amount": str(amount), "ruling": ruling(today)})
    assert status == 202, body
    assert body["status"] == "pending" and "执协" in body["notice_number"]
    freeze = await wait_measure(api, body["id"])
    assert freeze["status"] == "active", freeze
    assert Decimal(freeze["effect_amount"]) == amount and freeze["queue_position"] == 1
    assert freeze["expires_on"] == date(today.year + 1, today.month, today.day).isoformat() or \
        freeze["expires_on"].startswith(str(today.year + 1))
    code, held = await bank_view(simulators, number)
    assert code == 200 and Decimal(held["Frozen"]) == amount, held

    # Within the notice days of its expiry the renewal is due: an alert on the case, once.
    clock.advance((date.fromisoformat(freeze["expires_on"]) - today).days - 10)
    raised, lapsed = await api.app[MEASURE_EXPIRY].tick()
    assert (raised, lapsed) == (1, 0)
    assert (await api.app[MEASURE_EXPIRY].tick())[0] == 0
    status, alerts = await api.request("GET", f"/api/v1/alerts?kind=measure_renewal_due&case_id={cid}", login=JUDGE)
    assert status == 200 and len(alerts["alerts"]) == 1, alerts
    status, got = await api.request("GET", f"/api/v1/measures/{freeze['id']}", login=JUDGE)
    assert got["expiry_state"] == "due"
    # The alert offers the renewal to the case's judge (measure_permissions), its ruling defaulted to
    # the case number and the court's date; the court's supervisor reads it without the renewal.
    assert alerts["today"] == clock.today().isoformat()
    assert alerts["alerts"][0]["actions"] == {"renew": {
        "method": "POST", "href": f"/api/v1/measures/{freeze['id']}:renew",
        "body": {"ruling": {"number": CASE_NUMBER, "ruled_on": clock.today().isoformat()}}}}
    status, seen = await api.request("GET", f"/api/v1/alerts?status=open&case_id={cid}", login=SUPERVISOR,
                                     role="supervisor")
    assert status == 200 and [a["kind"] for a in seen["alerts"]] == ["measure_renewal_due"], seen
    assert seen["alerts"][0]["actions"] == {} and seen["today"] == clock.today().isoformat()
    # Called all the same, the API refuses it (403, audited, nothing sent).
    pool = api.app[POOL]
    before = await pool.fetchval("SELECT max(id) FROM audit_log")
    status, refused = await api.request("POST", f"/api/v1/measures/{freeze['id']}:renew", login=SUPERVISOR,
                                        role="supervisor", json={"ruling": ruling(clock.today(), 2)})
    assert status == 403 and refused["error"]["code"] == "role_cannot_control", refused
    assert [(r["action"], r["reason"], r["case_id"]) for r in await pool.fetch(
        "SELECT action, reason, case_id FROM audit_log WHERE id > $1", before)] == [
        ("refusal", "role_cannot_control", cid)]

    status, body = await api.request("POST", f"/api/v1/measures/{freeze['id']}:renew", login=JUDGE,
                                     json={"ruling": ruling(clock.today(), 2)})
    assert status == 202, body
    # Submitted: the alert says so, with the notice number, and offers no second renewal.
    status, alerts = await api.request("GET", f"/api/v1/alerts?kind=measure_renewal_due&case_id={cid}", login=JUDGE)
    follow_up = alerts["alerts"][0]["follow_up"]
    assert follow_up["status"] in ("pending", "done"), follow_up  # the bank may have answered already
    assert follow_up == {"id": body["id"], "kind": "renew", "status": follow_up["status"],
                         "notice_number": body["notice_number"]}, alerts
    assert alerts["alerts"][0]["actions"] == {}
    renewal = await wait_measure(api, body["id"])
    assert renewal["status"] == "done", renewal
    status, renewed = await api.request("GET", f"/api/v1/measures/{freeze['id']}", login=JUDGE)
    old_expiry = date.fromisoformat(freeze["expires_on"])
    assert renewed["expires_on"] == date(old_expiry.year + 1, old_expiry.month, old_expiry.day).isoformat()
    assert renewed["expiry_state"] == "running"

    # A deduction lands as a recovered amount on the case, with the transfer reference.
    before = await api.app[POOL].fetchval("SELECT amount_recovered FROM enforcement_case WHERE id = $1", cid)
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
        "kind": "deduct", "measure_id": freeze["id"], "amount": "10.00", "ruling": ruling(clock.today(), 3)})
    assert status == 202, body
    deduction = await wait_measure(api, body["id"])
    assert deduction["status"] == "done" and deduction["transfer_reference"], deduction
    after = await api.app[POOL].fetchval("SELECT amount_recovered FROM enforcement_case WHERE id = $1", cid)
    assert after == (before or 0) + Decimal("10.00")
    event = await api.app[POOL].fetchrow(
        "SELECT data FROM case_event WHERE case_id = $1 AND event_type = 'amount_recovered'", cid)
    assert event is not None and deduction["transfer_reference"] in str(event["data"])
    code, held = await bank_view(simulators, number)
    assert Decimal(held["Frozen"]) == amount - Decimal("10.00")

    # Release: the bank holds nothing for the court.
    status, body = await api.request("POST", f"/api/v1/measures/{freeze['id']}:release", login=JUDGE,
                                     json={"ruling": ruling(clock.today(), 4)})
    assert status == 202, body
    assert (await wait_measure(api, body["id"]))["status"] == "done"
    status, released = await api.request("GET", f"/api/v1/measures/{freeze['id']}", login=JUDGE)
    assert released["status"] == "released"
    code, held = await bank_view(simulators, number)
    assert Decimal(held["Frozen"]) == 0
    status, listed = await api.request("GET", f"/api/v1/cases/{cid}/measures", login=JUDGE)
    assert [m["kind"] for m in listed["measures"]] == ["freeze", "renew", "deduct", "release"]

    # The recovery rate (执行到位率) reads the deduction once the case closes in the window.
    pool = api.app[POOL]
    await pool.execute("UPDATE enforcement_case SET status = 'closed', closure_mode = '执行完毕', closed_on = $2 "
                       "WHERE id = $1", cid, today)
    row = await pool.fetchrow("SELECT numerator, denominator FROM ind_recovery_rate($1, $1) WHERE case_id = $2",
                              today, cid)
    assert row is not None and row["numerator"] == after and row["numerator"] >= Decimal("10.00"), row


async def test_a_renewal_left_undone_lapses_with_alert_and_metric(make_api: Any) -> None:
    from enforcement.kernel import metrics

    api = await make_api()
    clock = api.app[MEASURE_CLOCK]
    cid, account = await found_account(api)
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": account["natural_key"],
        "ruling": ruling(clock.today())})
    assert status == 202, body
    freeze = await wait_measure(api, body["id"])
    lapsed_before = metrics.MEASURES_LAPSED.labels(agency="banks")._value.get()
    clock.advance((date.fromisoformat(freeze["expires_on"]) - clock.today()).days + 1)
    await api.app[MEASURE_EXPIRY].tick()
    status, got = await api.request("GET", f"/api/v1/measures/{freeze['id']}", login=JUDGE)
    assert got["status"] == "lapsed" and got["expiry_state"] == "lapsed"
    assert metrics.MEASURES_LAPSED.labels(agency="banks")._value.get() == lapsed_before + 1
    status, alerts = await api.request("GET", f"/api/v1/alerts?kind=measure_lapsed&case_id={cid}", login=JUDGE)
    assert len(alerts["alerts"]) == 1
    # A lapsed control cannot be renewed: a new measure is needed.
    status, body = await api.request("POST", f"/api/v1/measures/{freeze['id']}:renew", login=JUDGE,
                                     json={"ruling": ruling(clock.today(), 2)})
    assert status == 409, body


async def sim_controls(simulators: Any, agency: str = "banks") -> int:
    """The agency's count of effective controls (applied once per idempotency key)."""
    async with aiohttp.ClientSession() as s, s.get(f"{simulators[agency].url}/_sim/stats") as r:
        return int((await r.json())["effective_controls"])


async def test_bad_measures_are_refused_audited_and_never_sent(make_api: Any, simulators: Any) -> None:
    """A freeze beyond the balance, a case not yours, an expired ruling, a duplicate: each a clear
    4xx (bilingual, a stable code), one refusal record naming the case, and the bank applies nothing."""
    api = await make_api()
    clock = api.app[MEASURE_CLOCK]
    cid, account = await found_account(api)
    number = account["data"]["account_number"]
    pool = api.app[POOL]
    base = {"kind": "freeze", "asset_kind": "bank_account", "natural_key": account["natural_key"]}
    too_much = str(Decimal(str(account["data"]["available_balance"])) + 1)
    applied = await sim_controls(simulators)

    async def refused(login: str, body: dict[str, Any], status: int, code: str) -> None:
        before = await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'refusal'")
        got, answer = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=login, json=body)
        assert got == status and answer["error"]["code"] == code, answer
        assert answer["error"]["message"]["zh"] and answer["error"]["message"]["en"]
        rows = await pool.fetch("SELECT reason, case_id FROM audit_log WHERE action = 'refusal' ORDER BY id DESC")
        assert len(rows) == before + 1 and rows[0]["reason"] == code and rows[0]["case_id"] == cid

    await refused(JUDGE, {**base, "amount": too_much, "ruling": ruling(clock.today())}, 422, "amount_exceeds_balance")
    await refused(OTHER_JUDGE, {**base, "ruling": ruling(clock.today())}, 403, "not_case_judge")
    old = clock.today() - timedelta(days=120)
    await refused(JUDGE, {**base, "ruling": ruling(old)}, 422, "ruling_expired")
    await refused(JUDGE, {**base, "natural_key": "no-such-asset", "ruling": ruling(clock.today())}, 422,
                  "asset_not_found_by_search")
    assert await pool.fetchval("SELECT count(*) FROM measure") == 0
    code, _ = await bank_view(simulators, number)
    assert code == 404  # the bank never heard of a control on it
    assert await sim_controls(simulators) == applied  # nor of any control at all

    # A duplicate: the second freeze of the same account is refused and takes no notice number.
    status, first = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE,
                                      json={**base, "ruling": ruling(clock.today())})
    assert status == 202
    await wait_measure(api, first["id"])
    await refused(JUDGE, {**base, "ruling": ruling(clock.today(), 2)}, 409, "duplicate_measure")
    assert await pool.fetchval("SELECT count(*) FROM measure") == 1
    code, held = await bank_view(simulators, number)
    assert len(held["Freezes"]) == 1
    assert await sim_controls(simulators) == applied + 1  # the first freeze, once; the duplicate never


async def test_sigkilled_worker_mid_freeze_leaves_one_freeze_at_the_bank(
    make_api: Any, registry: Any, tmp_path: Any, db_url: str
) -> None:
    """Exactly once: the worker is killed while freezes and seals are in flight; a new worker takes
    them over (same idempotency keys); the bank holds one freeze per measure, never two, and every
    agency's count of effective controls equals the measures the service holds as done there."""
    from connectors.sdk.simulator_kit import SimulatorConfig
    from connectors.sdk.simulator_runner import start_simulators, stop_simulators
    from tests.processes import ServiceProcess, service_env

    sims = await start_simulators(
        registry.values(), configs=dict.fromkeys(registry, SimulatorConfig(latency_median_ms=600, latency_sigma=0.2)))
    env = service_env(db_url, {n: s.url for n, s in sims.items()}, tmp_path, LEASE_SECONDS="3", WORKER_ID="")
    first = ServiceProcess("worker", env, tmp_path / "worker-1.log")
    second = ServiceProcess("worker", env, tmp_path / "worker-2.log")
    try:
        api = await make_api(role="api")
        pool = api.app[POOL]
        await first.start()
        cid = await case_id(api)
        status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, json=search_body(cid))
        view = await api.wait_search(body["id"], JUDGE, timeout=60)
        accounts = [e for e in view["dossier"]["sections"].get("bank_account", [])
                    if Decimal(str(e["data"]["available_balance"])) > 0 and e["data"]["status"] != "销户"]
        vehicles = view["dossier"]["sections"].get("vehicle", [])
        assert accounts and vehicles
        today = api.app[MEASURE_CLOCK].today()
        targets = [("freeze", "bank_account", a) for a in accounts] + [("seal", "vehicle", v) for v in vehicles]
        for n, (kind, asset_kind, entry) in enumerate(targets, 1):
            status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
                "kind": kind, "asset_kind": asset_kind, "natural_key": entry["natural_key"],
                "ruling": ruling(today, n)})
            assert status == 202, body
        for _ in range(200):
            if await pool.fetchval("SELECT count(*) FROM measure WHERE task_status = 'running'"):
                break
            await asyncio.sleep(0.02)
        first.kill()
        assert await pool.fetchval("SELECT count(*) FROM measure WHERE task_status <> 'answered'") > 0, \
            "the kill came too late to prove anything"
        await second.start()
        deadline = asyncio.get_running_loop().time() + 60
        while await pool.fetchval("SELECT count(*) FROM measure WHERE task_status <> 'answered'"):
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.2)
        assert await pool.fetchval("SELECT count(*) FROM measure WHERE status = 'active'") == len(targets)
        assert await pool.fetchval("SELECT count(*) FROM measure WHERE attempts > 1") > 0  # really taken over
        # Per agency: the agency's effective controls (applied once per idempotency key) are the
        # measures the service keeps as done there (accepted or partly), none applied twice.
        done = {r["agency"]: r["n"] for r in await pool.fetch(
            "SELECT agency, count(*) AS n FROM measure WHERE status IN ('active', 'partial', 'done') GROUP BY agency")}
        assert set(done) == {"banks", "vehicles"}, done
        for agency, submitted in done.items():
            async with aiohttp.ClientSession() as s, s.get(f"{sims[agency].url}/_sim/stats") as r:
                stats = await r.json()
            assert (stats["effective_controls"], stats["duplicated_controls"]) == (submitted, 0), (agency, stats)
        for account in accounts:
            async with aiohttp.ClientSession() as s, \
                    s.get(f"{sims['banks'].url}/_sim/accounts/{account['data']['account_number']}") as r:
                held = await r.json()
            court_holds = [f for f in held["Freezes"] if f["FreezeOrg"].startswith(COURT)]
            assert len(court_holds) == 1, held
    finally:
        first.kill()
        await second.stop()
        await stop_simulators(sims)


async def test_a_large_deduction_waits_for_a_supervisor_a_small_one_goes_at_once(
    make_api: Any, simulators: Any
) -> None:
    """A deduction above the court's set amount is held (nothing reaches the bank) until a
    supervisor of the case's court approves it; a judge or another court's supervisor is refused
    (403, audited); a deduction at or below the amount goes at once."""
    api = await make_api(measure_deduction_approval_yuan=Decimal("5.00"))
    pool = api.app[POOL]
    clock = api.app[MEASURE_CLOCK]
    cid, account = await found_account(api)
    number = account["data"]["account_number"]
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": account["natural_key"],
        "ruling": ruling(clock.today())})
    assert status == 202, body
    freeze = await wait_measure(api, body["id"])
    assert freeze["status"] == "active", freeze
    frozen = Decimal(freeze["effect_amount"])
    assert frozen > 10

    # At the set amount: sent at once.
    status, small = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
        "kind": "deduct", "measure_id": freeze["id"], "amount": "5.00", "ruling": ruling(clock.today(), 2)})
    assert status == 202 and small["status"] == "pending" and small["task_status"] == "queued", small
    assert (await wait_measure(api, small["id"]))["status"] == "done"
    _, held = await bank_view(simulators, number)
    assert Decimal(held["Frozen"]) == frozen - Decimal("5.00"), held

    # Above it: held, and the dispatcher leaves it alone.
    status, large = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
        "kind": "deduct", "measure_id": freeze["id"], "amount": "5.01", "ruling": ruling(clock.today(), 3)})
    assert status == 202 and large["status"] == "awaiting_approval" and large["task_status"] == "held", large
    await asyncio.sleep(2.5)  # several dispatcher polls
    status, got = await api.request("GET", f"/api/v1/measures/{large['id']}", login=JUDGE)
    assert got["status"] == "awaiting_approval" and got["attempts"] == 0 and got["approved_by"] is None, got
    _, held = await bank_view(simulators, number)
    assert Decimal(held["Frozen"]) == frozen - Decimal("5.00"), held  # the bank heard nothing
    # A release while it waits is refused: one follow-up of a control at a time.
    status, body = await api.request("POST", f"/api/v1/measures/{freeze['id']}:release", login=JUDGE,
                                     json={"ruling": ruling(clock.today(), 4)})
    assert status == 409, body

    async def refused(login: str, status: int, code: str, role: str = "supervisor") -> None:
        before = await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'refusal'")
        got, answer = await api.request("POST", f"/api/v1/measures/{large['id']}:approve", login=login, role=role)
        assert got == status and answer["error"]["code"] == code, answer
        assert answer["error"]["message"]["zh"] and answer["error"]["message"]["en"]
        rows = await pool.fetch("SELECT reason, case_id FROM audit_log WHERE action = 'refusal' ORDER BY id DESC")
        assert len(rows) == before + 1 and rows[0]["reason"] == code and rows[0]["case_id"] == cid, rows[:1]

    await refused(JUDGE, 403, "approval_requires_supervisor", role="judge")
    await refused("liuyang", 403, "approval_requires_supervisor")  # a supervisor of another court
    assert (await api.request("GET", f"/api/v1/measures/{large['id']}", login=JUDGE))[1]["status"] == \
        "awaiting_approval"

    status, approved = await api.request("POST", f"/api/v1/measures/{large['id']}:approve", login="chenjing",
                                           role="supervisor")
    assert status == 202 and approved["approved_by"] == "chenjing" and approved["status"] in ("pending", "done"), \
        approved
    done = await wait_measure(api, large["id"])
    assert done["status"] == "done" and done["transfer_reference"], done
    _, held = await bank_view(simulators, number)
    assert Decimal(held["Frozen"]) == frozen - Decimal("10.01"), held
    row = await pool.fetchrow("SELECT actor_login, case_id, details FROM audit_log WHERE action = 'measure_approve'")
    assert row is not None and row["actor_login"] == "chenjing" and row["case_id"] == cid
    await refused("chenjing", 409, "not_awaiting_approval")  # approved once, never twice


async def test_the_closure_check_lists_the_controls_to_keep_or_release(make_api: Any) -> None:
    """终本 keeps the case's controls (renew before expiry), full payment releases them: the closure
    checklist lists each control in force with its expiry and the suggested action."""
    api = await make_api()
    clock = api.app[MEASURE_CLOCK]
    cid, account = await found_account(api)
    status, check = await api.request("GET", f"/api/v1/cases/{cid}/closure-check", login=JUDGE)
    assert status == 200 and check["measures"]["items"] == [], check["measures"]
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": account["natural_key"],
        "ruling": ruling(clock.today())})
    assert status == 202, body
    freeze = await wait_measure(api, body["id"])
    assert freeze["status"] == "active"

    status, check = await api.request("GET", f"/api/v1/cases/{cid}/closure-check", login=JUDGE)
    assert status == 200, check
    measures = check["measures"]
    assert measures["closure_mode"] == "终结本次执行程序"
    [item] = measures["items"]
    assert item["measure_id"] == freeze["id"] and item["expires_on"] == freeze["expires_on"]
    assert item["natural_key"] == account["natural_key"] and item["notice_number"] == freeze["notice_number"]
    assert item["action"] == "keep" and item["renew_by"] == freeze["expires_on"] and item["expiry_state"] == "running"
    assert item["on_full_payment"]["action"] == "release"

    # Released: no longer listed.
    status, body = await api.request("POST", f"/api/v1/measures/{freeze['id']}:release", login=JUDGE,
                                     json={"ruling": ruling(clock.today(), 2)})
    assert status == 202, body
    await wait_measure(api, body["id"])
    status, check = await api.request("GET", f"/api/v1/cases/{cid}/closure-check", login=JUDGE)
    assert check["measures"]["items"] == []


async def test_a_control_on_a_case_closed_for_good_is_due_for_release_not_renewal(make_api: Any) -> None:
    """执行完毕 ends the enforcement: a control falling due is to be released (a renewal would be
    refused), so its alert offers the release; a 终本 case's control is offered the renewal."""
    api = await make_api()
    clock = api.app[MEASURE_CLOCK]
    pool = api.app[POOL]
    cid, account = await found_account(api)
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": account["natural_key"],
        "ruling": ruling(clock.today())})
    assert status == 202, body
    freeze = await wait_measure(api, body["id"])
    await pool.execute("UPDATE enforcement_case SET status = 'closed', closure_mode = '执行完毕', "
                       "closed_on = $2 WHERE id = $1", cid, clock.today())
    clock.advance((date.fromisoformat(freeze["expires_on"]) - clock.today()).days - 3)
    await api.app[MEASURE_EXPIRY].tick()
    status, alerts = await api.request("GET", f"/api/v1/alerts?kind=measure_renewal_due&case_id={cid}", login=JUDGE)
    assert status == 200 and len(alerts["alerts"]) == 1, alerts
    alert = alerts["alerts"][0]
    assert set(alert["actions"]) == {"release"}, alert
    assert alert["actions"]["release"]["href"] == f"/api/v1/measures/{freeze['id']}:release"
    assert "解除" in alert["message"]["zh"] and "release" in alert["message"]["en"]
