"""check() calls aiohttp directly, so a connection error escapes untranslated."""

from __future__ import annotations

from connectors.sdk.errors import AuthError
from connectors.vehicles import VehiclesConnector
from connectors.vehicles.codes import QUERY_PATH
from connectors.vehicles.wire import build_heartbeat
from tests.conformance.broken._base import VEHICLES, spec


class RawAiohttp(VehiclesConnector):
    async def check(self) -> None:
        url = self.config.base_url.rstrip("/") + QUERY_PATH
        async with self.session.post(url, json=build_heartbeat(self.config.secret)) as resp:
            body = await resp.json()
        if body.get("code") != "0000":
            raise AuthError(str(body.get("msg")))


EXPECTED = ("check.unreachable", "check() with an unreachable URL raised ClientConnectorError")
CONNECTOR = spec(VEHICLES, factory=RawAiohttp)
