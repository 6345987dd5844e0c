"""The whole app, seeded, served from its own thread and event loop for the fuzz tests.

Schemathesis and Hypothesis drive synchronous test functions (``requests`` under schemathesis),
so the server cannot share the test's event loop: it gets a thread of its own, with the agency
simulators and a fresh database cloned from the session's migrated template. One app serves
every fuzz test of the package (what the fuzz writes stays; nothing asserts on totals).
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from connectors.sdk.registry import Registry
from connectors.sdk.simulator_kit import SimulatorConfig
from connectors.sdk.simulator_runner import start_simulators, stop_simulators
from enforcement.seeds import CASES
from tests.conftest import app_settings
from tests.pg import with_database

T = TypeVar("T")

CALLBACK_SECRET = "fuzz-bank-callback-secret"
JUDGE = "zhangwei"                 # judge of 辽0102, holds the first seeded case
SUPERVISOR = "chenjing"            # supervisor of 辽0102
CASE_SYSTEM = "cms-0102"           # 辽0102's case-management system
CASE_NUMBER = CASES[0][0]          # （2026）辽0102执1032号
DEBTOR = CASES[0][-1][0]


@dataclass
class LiveApp:
    """A running app: its base URL, bearer tokens, and real ids of things the fuzz can reach."""

    base_url: str
    loop: asyncio.AbstractEventLoop
    app: Any
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def run(self, coro: Awaitable[T], timeout: float = 60) -> T:
        """Run a coroutine on the server's loop (from the test's thread) and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}


async def _prepare(live: LiveApp, session: aiohttp.ClientSession) -> None:
    """Tokens, and one of each thing a path can name: a case, a completed search, a batch, an alert."""
    from enforcement.api.auth import DEMO_ISSUER
    from enforcement.api.keys import POOL, SETTINGS

    app = live.app
    issuer = app[DEMO_ISSUER]
    live.tokens = {JUDGE: issuer.issue(app[SETTINGS], JUDGE, "judge"),
                   SUPERVISOR: issuer.issue(app[SETTINGS], SUPERVISOR, "supervisor"),
                   CASE_SYSTEM: issuer.issue(app[SETTINGS], CASE_SYSTEM, "case_system")}
    pool = app[POOL]
    case_id = await pool.fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", CASE_NUMBER)
    subject = {"kind": DEBTOR.kind, "id_number": DEBTOR.id_number, "name": DEBTOR.name}
    judge = live.headers(JUDGE)
    async with session.post(f"{live.base_url}/api/v1/searches", headers=judge,
                            json={"case_id": case_id, "subject": subject}) as resp:
        assert resp.status == 202, await resp.text()
        search_id = (await resp.json())["id"]
    async with session.post(f"{live.base_url}/api/v1/searches:batch", headers=judge,
                            json=[{"case_id": case_id, "subject": subject}]) as resp:
        assert resp.status == 202, await resp.text()
        batch_id = (await resp.json())["id"]
    alert_id = await pool.fetchval(
        "INSERT INTO case_alert (kind, dedupe_key, case_id, evidence) VALUES ('consumption_breach', 'fuzz', $1, "
        "'{}'::jsonb) RETURNING id", case_id)
    # The event stream of a running search stays open: wait until the search has completed.
    for _ in range(300):
        if await pool.fetchval("SELECT completed_at IS NOT NULL FROM search WHERE id = $1", uuid.UUID(search_id)):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the fuzz's seeded search did not complete")
    # A freeze of an account the search found (issue 17): a measure the paths can name.
    from enforcement.measures.keys import MEASURE_CLOCK

    account = await pool.fetchval(
        "SELECT r.natural_key FROM asset_record r JOIN agency_task t ON t.answer_id = r.answer_id "
        "WHERE t.search_id = $1 AND r.kind = 'bank_account' ORDER BY r.id LIMIT 1", uuid.UUID(search_id))
    today = app[MEASURE_CLOCK].today()
    async with session.post(f"{live.base_url}/api/v1/cases/{case_id}/measures", headers=judge, json={
            "kind": "freeze", "asset_kind": "bank_account", "natural_key": account,
            "ruling": {"number": f"（{today.year}）辽0102执1号", "ruled_on": today.isoformat()}}) as resp:
        assert resp.status == 202, await resp.text()
        measure_id = (await resp.json())["id"]
    live.ids = {"case_id": str(case_id), "search_id": search_id, "batch_id": batch_id, "alert_id": str(alert_id),
                "agency": "banks", "code": "overall_closure_rate", "measure_id": str(measure_id)}


@pytest.fixture(scope="package")
def live(pg_admin: tuple[str, Any], template_db: str, registry: Registry,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    from enforcement.api.keys import POOL
    from enforcement.app import create_app
    from enforcement.seeds import seed

    admin_dsn, _ = pg_admin
    name = f"fuzz_{uuid.uuid4().hex[:12]}"
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzz-app", daemon=True)
    thread.start()

    def run(coro: Awaitable[T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)  # type: ignore[arg-type]

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def start() -> tuple[Any, Any, TestServer, aiohttp.ClientSession]:
        await admin(f"CREATE DATABASE {name} TEMPLATE {template_db}")
        sims = await start_simulators(registry.values(), configs=dict.fromkeys(registry, SimulatorConfig()))
        settings = app_settings(with_database(admin_dsn, name), sims, Path(tmp_path_factory.mktemp("fuzz")),
                                callback_secrets={"banks": CALLBACK_SECRET})
        app = create_app(settings, registry=registry)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        await seed(app[POOL])
        return sims, app, server, aiohttp.ClientSession()

    sims, app, server, session = run(start())
    live = LiveApp(base_url=str(server.make_url("")).rstrip("/"), loop=loop, app=app)
    try:
        run(_prepare(live, session))
        yield live
    finally:
        async def stop() -> None:
            await session.close()
            await server.close()
            await stop_simulators(sims)
            await admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

        run(stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def ndjson(lines: list[Any]) -> bytes:
    return "\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines).encode(
        "utf-8", "surrogatepass")
