"""The agency connection pool follows recent load: after a burst, steady calls reuse one
connection and the burst's extra connections are closed once their keep-alive runs out
(aiohttp's own pool cycles through all of them, so they would never be closed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.sdk.pool import RecentFirstConnector

BURST = 4
KEEPALIVE = 0.6


class Agency:
    """A loopback server that notes which client port each call came from."""

    def __init__(self) -> None:
        self.ports: list[int] = []
        self.gate = asyncio.Event()
        self.arrived = 0

    async def call(self, request: web.Request) -> web.Response:
        self.ports.append(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]
        if request.query.get("hold"):
            self.arrived += 1
            await self.gate.wait()
        return web.json_response({"ok": True})


@pytest.fixture
async def agency() -> AsyncIterator[tuple[Agency, TestServer]]:
    state = Agency()
    app = web.Application()
    app.router.add_get("/call", state.call)
    server = TestServer(app)
    await server.start_server()
    yield state, server
    await server.close()


async def burst_then_steady(connector: aiohttp.TCPConnector, agency: Agency, server: TestServer,
                            steady_seconds: float) -> tuple[list[int], int]:
    """BURST calls in flight together, then one call at a time for ``steady_seconds``;
    returns the client ports of the steady calls and the idle connections the pool holds."""
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(hold: bool) -> None:
            async with session.get(server.make_url("/call"), params={"hold": "1"} if hold else {}) as resp:
                assert resp.status == 200
                await resp.read()

        calls = [asyncio.create_task(one(True)) for _ in range(BURST)]
        while agency.arrived < BURST:
            await asyncio.sleep(0.01)
        agency.gate.set()
        await asyncio.gather(*calls)
        assert len(set(agency.ports)) == BURST  # the burst did open BURST connections
        agency.ports.clear()
        loop = asyncio.get_running_loop()
        until = loop.time() + steady_seconds
        while loop.time() < until:
            await one(False)
            await asyncio.sleep(0.05)
        idle = sum(len(v) for v in connector._conns.values())
        return list(agency.ports), idle


async def test_steady_calls_reuse_the_connection_released_last(agency: tuple[Agency, TestServer]) -> None:
    state, server = agency
    ports, _ = await burst_then_steady(RecentFirstConnector(keepalive_timeout=30), state, server, 0.4)
    assert len(ports) >= 4
    assert len(set(ports)) == 1, ports


async def test_the_bursts_extra_connections_are_closed_after_keepalive(agency: tuple[Agency, TestServer]) -> None:
    state, server = agency
    ports, idle = await burst_then_steady(RecentFirstConnector(keepalive_timeout=KEEPALIVE), state, server,
                                          KEEPALIVE * 3.5)
    assert idle == 1  # only the connection in use survives; the other BURST - 1 were closed
    assert len(set(ports)) == 1


async def test_aiohttps_own_pool_keeps_every_burst_connection(agency: tuple[Agency, TestServer]) -> None:
    """The behaviour the class exists to change; if aiohttp ever changes it, this says so."""
    state, server = agency
    ports, idle = await burst_then_steady(aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE), state, server,
                                          KEEPALIVE * 3.5)
    assert idle == BURST
    assert len(set(ports)) == BURST
