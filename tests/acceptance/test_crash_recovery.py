"""A dispatcher process killed with SIGKILL mid-search, and a new one started: the searches
finish and each agency is queried exactly once per search (the simulators count by
idempotency key)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from connectors.sdk.simulator_kit import SimulatorConfig
from connectors.sdk.simulator_runner import start_simulators, stop_simulators
from enforcement.api.keys import POOL
from enforcement.kernel.integrity import dangling_references
from enforcement.seeds import CASES
from tests.processes import ServiceProcess, service_env

N_SEARCHES = 12


async def _stats(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(f"{url}/_sim/stats") as r:
        data: dict[str, Any] = await r.json()
        return data


async def _task_states(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT status, count(*) AS n FROM agency_task GROUP BY status")
    return {r["status"]: r["n"] for r in rows}


async def test_sigkilled_worker_is_replaced_and_every_agency_is_asked_once(
    make_api: Any, registry: Any, tmp_path: Path, db_url: str
) -> None:
    # Slow agencies, so the kill lands while calls are in flight and answers are pending.
    sims = await start_simulators(
        registry.values(),
        configs=dict.fromkeys(registry, SimulatorConfig(latency_median_ms=400, latency_sigma=0.3)),
    )
    worker_env = service_env(db_url, {n: s.url for n, s in sims.items()}, tmp_path,
                             LEASE_SECONDS="3", WORKER_ID="")
    first = ServiceProcess("worker", worker_env, tmp_path / "worker-1.log")
    second = ServiceProcess("worker", worker_env, tmp_path / "worker-2.log")
    try:
        api = await make_api(role="api")
        pool = api.app[POOL]
        number, _court, judge, *_ = CASES[1]
        case_id = await pool.fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", number)
        debtor = CASES[1][-1][0]
        await first.start()
        ids = []
        for i in range(N_SEARCHES):
            status, body = await api.request(
                "POST", "/api/v1/searches", login=judge,
                json={"case_id": case_id, "force_fresh": True,
                      "subject": {"kind": debtor.kind, "id_number": debtor.id_number, "name": debtor.name},
                      "document_number": f"（2026）辽0102执协查{i:05d}号"},
            )
            assert status == 202, body
            ids.append(body["id"])

        # Wait until the worker holds leases on tasks, then kill it without warning.
        for _ in range(100):
            states = await _task_states(pool)
            if states.get("running", 0) > 0:
                break
            await asyncio.sleep(0.05)
        assert (await _task_states(pool)).get("running", 0) > 0, "the worker never claimed anything"
        first.kill()
        left_behind = await pool.fetchval("SELECT count(*) FROM agency_task WHERE status = 'running'")
        unfinished = await pool.fetchval("SELECT count(*) FROM search WHERE status <> 'completed'")
        assert unfinished > 0, "the kill came too late to prove anything"

        await second.start()
        deadline = asyncio.get_running_loop().time() + 60
        while await pool.fetchval("SELECT count(*) FROM search WHERE status <> 'completed'"):
            assert asyncio.get_running_loop().time() < deadline, await _task_states(pool)
            await asyncio.sleep(0.2)

        states = await _task_states(pool)
        assert states == {"succeeded": N_SEARCHES * len(registry)}, states
        # what the dropped foreign keys checked still holds (decision 1925)
        assert [d for d in await dangling_references(pool) if d.rows] == []
        async with aiohttp.ClientSession() as session:
            for name, sim in sims.items():
                stats = await _stats(session, sim.url)
                assert stats["effective_queries"] == N_SEARCHES, (name, stats)
                assert stats["duplicated_keys"] == 0, (name, stats)
        # The killed worker really had work in hand that the second one took over.
        assert left_behind > 0
        taken_over = await pool.fetchval("SELECT count(*) FROM agency_task WHERE attempts > 1")
        assert taken_over > 0
        for line in second.log_text().splitlines():
            if line.startswith("{"):
                assert json.loads(line).get("level") != "error", line
    finally:
        first.kill()
        await second.stop()
        await stop_simulators(sims)
