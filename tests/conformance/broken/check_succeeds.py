"""check() asks a health endpoint the registry does not have (it only has the outaccess one)."""

from __future__ import annotations

from connectors.sdk.http import fetch_json
from connectors.vehicles import VehiclesConnector
from tests.conformance.broken._base import VEHICLES, spec


class WrongHealthCheck(VehiclesConnector):
    async def check(self) -> None:
        await fetch_json(self.session, "GET", self.config.base_url.rstrip("/") + "/health",
                         timeout=self.config.timeout_seconds)


EXPECTED = ("check.succeeds", "check() raised TransientError")
CONNECTOR = spec(VEHICLES, factory=WrongHealthCheck)
