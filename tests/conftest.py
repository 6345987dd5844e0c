"""Shared fixtures: a real PostgreSQL per session, a fresh database per test cloned from a
migrated template, the agency simulators on loopback, and the whole app."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from connectors.sdk.registry import Registry
from connectors.sdk.simulator_kit import SimulatorConfig
from connectors.sdk.simulator_runner import RunningSimulator, start_simulators, stop_simulators
from enforcement.kernel.migrate import apply_migrations
from enforcement.kernel.pool import create_pool, init_connection
from enforcement.kernel.settings import Settings
from tests.openapi_check import validate_response
from tests.pg import postgres_server, with_database
from tests.system_tools import pytest_runtest_makereport  # noqa: F401 - folds missing-program skips

TEMPLATE = "enforcement_template"

os.environ.setdefault("LOG_JSON", "1")


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[tuple[str, Any]]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
async def template_db(pg_admin: tuple[str, Any]) -> str:
    admin_dsn, _ = pg_admin
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await conn.close()
    tconn = await asyncpg.connect(with_database(admin_dsn, TEMPLATE))
    try:
        await apply_migrations(tconn)
    finally:
        await tconn.close()
    return TEMPLATE


@pytest.fixture
async def db_url(pg_admin: tuple[str, Any], template_db: str) -> AsyncIterator[str]:
    admin_dsn, _ = pg_admin
    name = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE {template_db}")
    finally:
        await conn.close()
    yield with_database(admin_dsn, name)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(db_url, min_size=1, max_size=10)
    yield p
    await p.close()


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(db_url)
    await init_connection(c)
    yield c
    await c.close()


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.discover()


@pytest.fixture
async def simulators(registry: Registry) -> AsyncIterator[dict[str, RunningSimulator]]:
    sims = await start_simulators(registry.values(), configs=dict.fromkeys(registry, SimulatorConfig()))
    yield sims
    await stop_simulators(sims)


def app_settings(db_url: str, sims: dict[str, RunningSimulator], tmp_path: Path, **overrides: Any) -> Settings:
    base = Settings(
        database_url=db_url,
        data_dir=tmp_path,
        agency_urls={n: s.url for n, s in sims.items()},
        idle_poll_seconds=0.2,
        # The banks gather a batch for 0.5 s, not the manifest's 2: every test that waits for a search
        # waits for the banks (a test of batching by time sets its own agency_overrides).
        agency_overrides={"banks": {"batch_wait_seconds": "0.5"}},
        pool_min_size=1,
        pool_max_size=10,
        log_json=True,
    )
    return replace(base, **overrides)


class Api:
    """A test client for the running app: JSON in, JSON out, tokens by login."""

    def __init__(self, server: TestServer, session: aiohttp.ClientSession, app: Any) -> None:
        self.server = server
        self.session = session
        self.app = app
        self.validate = True  # every response is checked against schemas/openapi.yaml

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def token(self, login: str, role: str) -> str:
        from enforcement.api.auth import DEMO_ISSUER
        from enforcement.api.keys import SETTINGS

        issuer = self.app[DEMO_ISSUER]
        token: str = issuer.issue(self.app[SETTINGS], login, role)
        return token

    async def request(self, method: str, path: str, *, login: str | None = None, role: str = "judge",
                      **kwargs: Any) -> tuple[int, Any]:
        headers = dict(kwargs.pop("headers", {}) or {})
        if login:
            headers["Authorization"] = f"Bearer {self.token(login, role)}"
        async with self.session.request(method, self.url(path), headers=headers, **kwargs) as resp:
            body: Any = await resp.json() if resp.content_type == "application/json" else await resp.text()
            if self.validate and resp.content_type != "text/event-stream":
                validate_response(method, path, resp.status, resp.content_type, body)
            return resp.status, body

    async def wait_search(self, search_id: str, login: str, *, timeout: float = 30.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            status, body = await self.request("GET", f"/api/v1/searches/{search_id}", login=login)
            assert status == 200, body
            if body["status"] == "completed":
                return dict(body)
            if loop.time() > deadline:
                raise AssertionError(f"search {search_id} not completed in {timeout}s: {body['agencies']}")
            await asyncio.sleep(0.1)


class AppServer(TestServer):
    """The test server, run by the service's own runner (api/protocol.py), as ``enforcement serve`` is."""

    async def _make_runner(self, **kwargs: Any) -> Any:
        from enforcement.api.protocol import AppRunner

        return AppRunner(self.app, **kwargs)


@pytest.fixture
async def make_api(db_url: str, simulators: dict[str, RunningSimulator], tmp_path: Path,
                   registry: Registry) -> AsyncIterator[Any]:
    """``await make_api(**settings_overrides)`` starts the whole app over real HTTP, seeded."""
    from enforcement.api.keys import POOL
    from enforcement.app import create_app
    from enforcement.seeds import seed

    started: list[tuple[TestServer, aiohttp.ClientSession]] = []

    async def factory(*, only: Iterable[str] | None = None, **overrides: Any) -> Api:
        """``only``: build the app with only these connectors (e.g. without a plug-in)."""
        settings = app_settings(db_url, simulators, tmp_path, **overrides)
        app = create_app(settings, registry=registry if only is None else registry.only(only))
        server = AppServer(app)
        await server.start_server()
        await seed(app[POOL])
        session = aiohttp.ClientSession()
        started.append((server, session))
        return Api(server, session, app)

    yield factory
    for server, session in started:
        await session.close()
        await server.close()
