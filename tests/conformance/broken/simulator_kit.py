"""The simulator is a bare aiohttp app: the agency's route, but none of the kit's control API."""

from __future__ import annotations

from aiohttp import web

from connectors.sdk.simulator_kit import SimulatorConfig
from connectors.vehicles.codes import QUERY_PATH
from tests.conformance.broken._base import VEHICLES, spec


async def answer(_request: web.Request) -> web.Response:
    return web.json_response({"code": "0000", "msg": "成功", "data": {"fwzt": "1"}})


def bare_simulator(config: SimulatorConfig | None = None) -> web.Application:
    app = web.Application()
    app.router.add_post(QUERY_PATH, answer)
    return app


EXPECTED = ("simulator.kit", "the simulator's /_sim/stats is not JSON")
CONNECTOR = spec(VEHICLES, simulator=bare_simulator)
