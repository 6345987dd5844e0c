"""The wire client uses its own generous timeout instead of config.timeout_seconds."""

from __future__ import annotations

from dataclasses import replace

import aiohttp

from connectors.sdk.types import ConnectorConfig
from connectors.vehicles import VehiclesConnector
from connectors.vehicles.wire import VehicleRegistryClient
from tests.conformance.broken._base import VEHICLES, spec


class OwnTimeout(VehiclesConnector):
    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        super().__init__(config, session)
        self._client = VehicleRegistryClient(replace(config, timeout_seconds=10.0), session)


EXPECTED = (
    "timeout.honoured",
    "check() with timeout_seconds=0.3, when the agency hangs for 2s, returned NoneType "
    "instead of raising TransientError",
)
CONNECTOR = spec(VEHICLES, factory=OwnTimeout)
