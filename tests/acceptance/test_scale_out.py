"""Scale-out: several worker processes (``enforcement serve --role worker``) share one PostgreSQL.

- 2,000 searches through three workers, one of them killed with SIGKILL every couple of seconds
  and started again: nothing lost, each search completes, and each agency's *effective* query
  count (the simulators count by idempotency key) equals the number of searches.
- Agency limits hold across workers: an agency's rate and its calls in flight, measured at the
  agency, stay within its policy however many workers share it; and when the agency goes down,
  the breaker one worker opens keeps every worker away, and the log says it once.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

from connectors.sdk.simulator_kit import SimulatorConfig
from connectors.sdk.simulator_runner import start_simulators, stop_simulators
from enforcement.api.keys import POOL
from tests.agency_helpers import (
    batch_rows,
    case_with_debtors,
    env_overrides,
    errors_in,
    json_log_events,
    make_debtors,
    overrides_for,
    sim_config,
    sim_stats,
    task_states,
    unfinished_searches,
    wait_until,
)
from tests.processes import ServiceProcess, service_env

SECRET = "scale-out-callback-secret"
JUDGE = "zhangwei"


async def _submit(api: Any, case_id: int, debtors: Any) -> str:
    data = io.BytesIO(json.dumps(batch_rows(case_id, debtors), ensure_ascii=False).encode())
    status, body = await api.request("POST", "/api/v1/searches:batch", login=JUDGE, data=data,
                                     headers={"Content-Type": "application/json"})
    assert status == 202, body
    return str(body["id"])


@pytest.mark.slow
async def test_two_thousand_searches_three_workers_sigkilled_repeatedly(
    make_api: Any, registry: Any, tmp_path: Path, db_url: str
) -> None:
    n_searches = 2000
    sims = await start_simulators(
        registry.values(),
        configs=dict.fromkeys(registry, SimulatorConfig(latency_median_ms=15, latency_sigma=0.5,
                                                        answer_delay_seconds=0.5)),
    )
    overrides = overrides_for(registry, timeout_seconds="3", rate_per_second="3000", max_in_flight="48",
                              deadline_seconds="600", max_backoff_seconds="0.5", batch_wait_seconds="0.2")
    env = service_env(db_url, {n: s.url for n, s in sims.items()}, tmp_path, LEASE_SECONDS="2",
                      HEARTBEAT_SECONDS="0.5", **env_overrides(overrides))
    workers: list[ServiceProcess] = []
    incarnations = 0

    def new_worker(slot: int) -> ServiceProcess:
        nonlocal incarnations
        incarnations += 1
        return ServiceProcess("worker", env, tmp_path / f"worker-{slot}-{incarnations}.log")

    try:
        api = await make_api(role="api", callback_secrets={"banks": SECRET}, agency_overrides=overrides)
        await sim_config(sims["banks"].url, callback_url=api.url("/api/v1/agencies/banks/callbacks"),
                         callback_secret=SECRET)
        pool = api.app[POOL]
        debtors = make_debtors(n_searches, start=40_000)
        case_id = await case_with_debtors(pool, debtors)
        workers = [new_worker(i) for i in range(3)]
        await asyncio.gather(*(w.start() for w in workers))
        started = time.monotonic()
        await _submit(api, case_id, debtors)

        kills = 0
        rng = random.Random(7)
        deadline = time.monotonic() + 150
        while await unfinished_searches(pool):
            assert time.monotonic() < deadline, await task_states(pool)
            await asyncio.sleep(1.5)
            if await unfinished_searches(pool) == 0:
                break
            slot = rng.randrange(len(workers))
            workers[slot].kill()  # SIGKILL: leases left behind, outcomes in memory lost
            kills += 1
            workers[slot] = new_worker(slot)
            await workers[slot].start()
        took = time.monotonic() - started

        states = await task_states(pool)
        assert states == {"succeeded": n_searches * len(registry)}, states  # nothing lost, nothing failed
        assert kills >= 3, f"only {kills} kills: the run ended too soon to prove anything"
        reclaimed = await pool.fetchval("SELECT count(*) FROM agency_task WHERE attempts > 1")
        duplicated = 0
        for name, sim in sims.items():
            stats = await sim_stats(sim.url)
            assert stats["effective_queries"] == n_searches, (name, stats)
            assert stats["duplicated_keys"] == 0, (name, stats)
            duplicated += stats["duplicated_keys"]
        callbacks = await sim_stats(sims["banks"].url, "/_sim/callbacks")
        events = _events(tmp_path, "worker-*.log")
        assert errors_in(events) == [], errors_in(events)[:5]
        print(f"\n[scale-out] searches={n_searches} workers=3 sigkills={kills} tasks_reclaimed={reclaimed} "
              f"lost=0 duplicated={duplicated} stuck=0 bank_callbacks={callbacks.get('delivered', 0)} "
              f"took={took:.1f}s")
    finally:
        for w in workers:
            w.kill()
        await stop_simulators(sims)


@pytest.mark.slow
async def test_agency_limits_and_breaker_hold_across_workers(
    make_api: Any, registry: Any, tmp_path: Path, db_url: str
) -> None:
    rate, in_flight = 25.0, 3
    sims = await start_simulators(
        registry.values(),
        configs=dict.fromkeys(registry, SimulatorConfig(latency_median_ms=40, answer_delay_seconds=0.2)),
    )
    overrides = overrides_for(registry, timeout_seconds="2", deadline_seconds="120")
    overrides["vehicles"].update(rate_per_second=str(rate), max_in_flight=str(in_flight), breaker_min_calls="6",
                                 breaker_failure_ratio="0.5", breaker_open_seconds="2.5", max_attempts="1",
                                 breaker_half_open_probes="1")
    env = service_env(db_url, {n: s.url for n, s in sims.items()}, tmp_path, HEARTBEAT_SECONDS="0.3",
                      **env_overrides(overrides))
    workers = [ServiceProcess("worker", env, tmp_path / f"limits-{i}.log") for i in range(3)]
    vehicles = sims["vehicles"].url
    try:
        api = await make_api(role="api", agency_overrides=overrides, heartbeat_seconds=0.3)
        pool = api.app[POOL]
        await asyncio.gather(*(w.start() for w in workers))

        async def three_alive() -> bool:
            status, body = await api.request("GET", "/api/v1/agencies", login=JUDGE)
            return status == 200 and body["workers"] == 3

        await wait_until(three_alive, timeout=15, what="three live workers")
        debtors = make_debtors(150, start=60_000)
        case_id = await case_with_debtors(pool, debtors)
        await _submit(api, case_id, debtors)

        # Sample the agency's own count of calls: the rate over any 2-second window stays
        # within the policy's rate (plus the workers' small bursts), not three times it.
        samples: list[tuple[float, int, int]] = []
        while await pool.fetchval(
                "SELECT count(*) FROM agency_task WHERE agency = 'vehicles' AND status <> 'succeeded'"):
            stats = await sim_stats(vehicles)
            samples.append((time.monotonic(), stats["calls"], stats.get("peak_in_flight", 0)))
            await asyncio.sleep(0.25)
        samples.append((time.monotonic(), (await sim_stats(vehicles))["calls"], 0))
        assert samples[-1][1] >= 150
        worst = 0.0
        for i, (t0, c0, _) in enumerate(samples):
            for t1, c1, _ in samples[i + 1:]:
                if t1 - t0 >= 2.0:
                    worst = max(worst, (c1 - c0) / (t1 - t0))
                    break
        assert worst <= rate * 1.35, f"vehicles saw {worst:.1f} calls/s; its rate is {rate}/s"
        peak = (await sim_stats(vehicles)).get("peak_in_flight")
        if peak is not None:
            assert peak <= in_flight, f"vehicles saw {peak} calls at once; its limit is {in_flight}"

        # Down: one worker's breaker opens it for all; while open, no worker calls it.
        await sim_config(vehicles, down=True)
        more = make_debtors(30, start=61_000)
        case2 = await case_with_debtors(pool, more, number="（2026）辽0102执7777777号")
        await _submit(api, case2, more)

        async def opened() -> dict[str, Any] | None:
            _status, body = await api.request("GET", "/api/v1/agencies", login=JUDGE)
            v = next(a for a in body["agencies"] if a["name"] == "vehicles")
            return v if v["breaker"]["state"] == "open" else None

        view = await wait_until(opened, timeout=15, what="the shared breaker to open")
        await asyncio.sleep(0.3)
        calls_at_open = (await sim_stats(vehicles))["calls"]
        await asyncio.sleep(1.6)
        assert (await sim_stats(vehicles))["calls"] == calls_at_open, "a worker called an agency whose breaker is open"
        await sim_config(vehicles, down=False)
        await wait_until(lambda: _none_unfinished(pool), timeout=60, what="every search after the agency is back")
        events = _events(tmp_path, "limits-*.log")
        downs = [e for e in events if e.get("event") == "agency_down"]
        backs = [e for e in events if e.get("event") == "agency_recovered"]
        assert [e["agency"] for e in downs] == ["vehicles"], downs  # once, though three workers saw it
        assert [e["agency"] for e in backs] == ["vehicles"], backs
        assert errors_in(events) == []
        print(f"\n[limits] vehicles rate limit {rate}/s: worst 2-s window {worst:.1f}/s; in-flight limit "
              f"{in_flight}: peak {peak}; breaker opened by {downs[0].get('worker_id')} for all 3 workers "
              f"(reason {view['breaker']['reason']})")
    finally:
        for w in workers:
            w.kill()
        await stop_simulators(sims)


def _events(folder: Path, pattern: str) -> list[dict[str, Any]]:
    """Every JSON log event the worker processes wrote (their logs, after the fact)."""
    return [e for p in sorted(folder.glob(pattern)) for e in json_log_events(p)]


async def _none_unfinished(pool: Any) -> bool:
    return await unfinished_searches(pool) == 0
