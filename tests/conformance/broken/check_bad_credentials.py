"""check() sends a hard-coded key instead of config.secret, so a wrong key goes unnoticed."""

from __future__ import annotations

from dataclasses import replace

from connectors.vehicles import VehiclesConnector
from connectors.vehicles.wire import VehicleRegistryClient
from tests.conformance.broken._base import VEHICLES, spec


class HardCodedKey(VehiclesConnector):
    async def check(self) -> None:
        await VehicleRegistryClient(replace(self.config, secret="sim-key"), self.session).heartbeat()


EXPECTED = ("check.bad_credentials", "check() with a wrong credential returned NoneType instead of raising AuthError")
CONNECTOR = spec(VEHICLES, factory=HardCodedKey)
