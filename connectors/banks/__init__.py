"""Banks (银行) through the 总对总 network: deferred, batch-capable, with signed callbacks."""

from __future__ import annotations

from connectors.banks.adapter import BanksConnector
from connectors.banks.simulator import create_simulator
from connectors.sdk import ConnectorSpec, Manifest

CONNECTOR = ConnectorSpec(
    manifest=Manifest.load(__name__), factory=BanksConnector, simulator=create_simulator
)

__all__ = ["CONNECTOR", "BanksConnector", "create_simulator"]
