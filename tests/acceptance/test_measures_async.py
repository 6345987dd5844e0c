"""Banks answer controls asynchronously, by ticket (DOMAIN.md section 2): a freeze stays pending
while the bank processes it (its task waiting with the bank's ticket, the bank holding nothing
yet), then becomes active with the amount frozen; a worker SIGKILLed while freezes wait loses
nothing: the next worker polls the same tickets and the bank applies each freeze once."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import aiohttp

from enforcement.api.keys import POOL
from enforcement.measures.keys import MEASURE_CLOCK
from tests.acceptance.test_measures import COURT, JUDGE, bank_view, found_account, ruling, sim_controls, wait_measure
from tests.acceptance.test_search_flow import case_id, search_body


async def sim_config(url: str, **settings: Any) -> None:
    async with aiohttp.ClientSession() as s, s.post(f"{url}/_sim/config", json=settings) as r:
        assert r.status == 200, await r.text()


async def until(pool: Any, sql: str, *args: Any, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await pool.fetchval(sql, *args):
        assert asyncio.get_running_loop().time() < deadline, sql
        await asyncio.sleep(0.05)


async def test_a_freeze_stays_pending_until_the_bank_answers_then_is_active_with_the_amount(
    make_api: Any, simulators: Any
) -> None:
    await sim_config(simulators["banks"].url, control_delay_seconds=3.0)
    api = await make_api()
    pool = api.app[POOL]
    cid, account = await found_account(api)
    number = account["data"]["account_number"]
    amount = (Decimal(str(account["data"]["available_balance"])) / 2).quantize(Decimal("0.01"))
    applied = await sim_controls(simulators)

    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": account["natural_key"],
        "amount": str(amount), "ruling": ruling(api.app[MEASURE_CLOCK].today())})
    assert status == 202, body
    await until(pool, "SELECT task_status = 'waiting' FROM measure WHERE id = $1", body["id"])
    status, waiting = await api.request("GET", f"/api/v1/measures/{body['id']}", login=JUDGE)
    assert status == 200 and waiting["status"] == "pending" and waiting["task_status"] == "waiting", waiting
    assert waiting["agency_ticket"] and waiting["effect_amount"] is None and waiting["attempts"] == 1
    code, _ = await bank_view(simulators, number)
    assert code == 404  # the bank has not processed it: nothing frozen yet
    assert await sim_controls(simulators) == applied

    active = await wait_measure(api, body["id"])
    assert active["status"] == "active" and active["task_status"] == "answered", active
    assert Decimal(active["effect_amount"]) == amount and active["queue_position"] == 1 and active["reference"]
    assert active["attempts"] == 1  # polls are no new attempts
    code, held = await bank_view(simulators, number)
    assert code == 200 and Decimal(held["Frozen"]) == amount, held
    assert await sim_controls(simulators) == applied + 1


async def test_a_worker_sigkilled_while_freezes_wait_for_the_bank_loses_nothing(
    make_api: Any, registry: Any, tmp_path: Any, db_url: str
) -> None:
    from connectors.sdk.simulator_kit import SimulatorConfig
    from connectors.sdk.simulator_runner import start_simulators, stop_simulators
    from tests.processes import ServiceProcess, service_env

    configs = dict.fromkeys(registry, SimulatorConfig())
    configs["banks"] = SimulatorConfig(control_delay_seconds=6.0)
    sims = await start_simulators(registry.values(), configs=configs)
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
        assert accounts
        today = api.app[MEASURE_CLOCK].today()
        for n, entry in enumerate(accounts, 1):
            status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
                "kind": "freeze", "asset_kind": "bank_account", "natural_key": entry["natural_key"],
                "ruling": ruling(today, n)})
            assert status == 202, body
        await until(pool, "SELECT count(*) = $1 FROM measure WHERE task_status = 'waiting'", len(accounts))
        first.kill()
        tickets = dict(await pool.fetch("SELECT id, agency_ticket FROM measure"))
        assert all(tickets.values()) and await pool.fetchval(
            "SELECT count(*) FROM measure WHERE status = 'pending'") == len(accounts)
        await second.start()
        await until(pool, "SELECT count(*) = 0 FROM measure WHERE task_status <> 'answered'", timeout=60)
        assert await pool.fetchval("SELECT count(*) FROM measure WHERE status = 'active'") == len(accounts)
        assert dict(await pool.fetch("SELECT id, agency_ticket FROM measure")) == tickets  # the same tickets
        assert await pool.fetchval("SELECT max(attempts) FROM measure") == 1  # polled, never sent again
        async with aiohttp.ClientSession() as s, s.get(f"{sims['banks'].url}/_sim/stats") as r:
            stats = await r.json()
        assert (stats["effective_controls"], stats["duplicated_controls"]) == (len(accounts), 0), stats
        for account in accounts:
            async with aiohttp.ClientSession() as s, \
                    s.get(f"{sims['banks'].url}/_sim/accounts/{account['data']['account_number']}") as r:
                held = await r.json()
            assert len([f for f in held["Freezes"] if f["FreezeOrg"].startswith(COURT)]) == 1, held
    finally:
        first.kill()
        await second.stop()
        await stop_simulators(sims)
