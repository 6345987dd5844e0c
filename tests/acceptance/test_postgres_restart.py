"""PostgreSQL restarted in the middle of a run: the service notices, waits, reconnects by itself
(pool, LISTEN connections, claims, flushes, heartbeats) and finishes every search, each agency
asked once per search. Needs the embedded server, which the test can restart; with
``TEST_DATABASE_URL`` it is skipped, saying why."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from structlog.testing import capture_logs

from enforcement.api.keys import POOL
from enforcement.kernel.embedded import EmbeddedPostgres
from enforcement.kernel.integrity import dangling_references
from tests.agency_helpers import (
    TERMINAL,
    batch_rows,
    case_with_debtors,
    errors_in,
    level_of,
    make_debtors,
    overrides_for,
    sim_config,
    sim_stats,
)

N_SEARCHES = 150


async def _count(pool: Any, sql: str) -> int | None:
    """A count, or None while the database is away (the test's own queries must not fail)."""
    try:
        value: int = await asyncio.wait_for(pool.fetchval(sql), timeout=2)
        return value
    except Exception:  # the database is being restarted
        return None


@pytest.mark.slow
async def test_the_service_recovers_by_itself_from_a_postgres_restart(
    pg_admin: tuple[str, Any], make_api: Any, simulators: Any, registry: Any
) -> None:
    _dsn, server = pg_admin
    if not isinstance(server, EmbeddedPostgres):
        pytest.skip("restarting PostgreSQL needs the embedded server (TEST_DATABASE_URL points elsewhere)")
    for sim in simulators.values():
        await sim_config(sim.url, latency_median_ms=30, answer_delay_seconds=0.3)
    with capture_logs() as logs:
        api = await make_api(agency_overrides=overrides_for(registry, deadline_seconds="120"), heartbeat_seconds=0.3)
        pool = api.app[POOL]
        debtors = make_debtors(N_SEARCHES, start=80_000)
        case_id = await case_with_debtors(pool, debtors)
        status, body = await api.request("POST", "/api/v1/searches:batch", login="zhangwei",
                                         json=batch_rows(case_id, debtors))
        assert status == 202, body
        total = N_SEARCHES * len(registry)
        # Restart while the run is under way: some answers in, most not.
        while (await _count(pool, "SELECT count(*) FROM agency_task WHERE status = 'succeeded'") or 0) < total // 10:
            await asyncio.sleep(0.05)
        before = await _count(pool, "SELECT count(*) FROM agency_task WHERE status = 'succeeded'")
        started = time.monotonic()
        await asyncio.get_running_loop().run_in_executor(None, server.restart)
        restarted_in = time.monotonic() - started
        assert before is not None and before < total

        deadline = time.monotonic() + 90
        unfinished = "SELECT count(*) FROM search WHERE status <> 'completed'"
        while (await _count(pool, unfinished)) != 0:
            assert time.monotonic() < deadline, await _count(pool, unfinished)
            await asyncio.sleep(0.3)
        recovered_in = time.monotonic() - started

    rows = await pool.fetch("SELECT status, count(*) AS n FROM agency_task GROUP BY status")
    states = {r["status"]: r["n"] for r in rows}
    assert states == {"succeeded": total}, states
    assert set(states) <= TERMINAL
    assert [d for d in await dangling_references(pool) if d.rows] == []  # decision 1925
    for name, sim in simulators.items():
        stats = await sim_stats(sim.url)
        assert stats["effective_queries"] == N_SEARCHES and stats["duplicated_keys"] == 0, (name, stats)
    status, _ = await api.request("GET", "/readyz")
    assert status == 200
    noticed = {e["event"] for e in logs if level_of(e) == "warning"}
    assert noticed & {"claim_failed", "flush_retrying", "listen_connection_lost", "coordination_unavailable"}, noticed
    assert errors_in(logs) == [], errors_in(logs)[:3]
    print(f"\n[pg-restart] searches={N_SEARCHES} tasks={total} answered_before_restart={before} "
          f"restart_took={restarted_in:.1f}s all_done_after={recovered_in:.1f}s lost=0 duplicated=0 stuck=0")
