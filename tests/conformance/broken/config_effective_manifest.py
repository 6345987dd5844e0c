"""The connector reloads its own manifest, dropping the deployment's overrides."""

from __future__ import annotations

import aiohttp

from connectors.sdk.manifest import Manifest
from connectors.sdk.types import ConnectorConfig
from connectors.vehicles import VehiclesConnector
from tests.conformance.broken._base import VEHICLES, spec


class IgnoresOverrides(VehiclesConnector):
    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        super().__init__(config, session)
        self.manifest = Manifest.load("connectors.vehicles")


EXPECTED = ("config.effective_manifest", "connector.manifest is not the ConnectorConfig.manifest it was given")
CONNECTOR = spec(VEHICLES, factory=IgnoresOverrides)
