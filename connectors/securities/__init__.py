"""中国结算 (CSDC) securities holdings: the investor's securities accounts, and for each what it
holds (code, name, quantity, frozen quantity, price and its date, market value at the data date)."""

from __future__ import annotations

from connectors.sdk import ConnectorSpec, Manifest
from connectors.securities.adapter import SecuritiesConnector, records_from_wire, result_from_wire
from connectors.securities.simulator import create_simulator

CONNECTOR = ConnectorSpec(
    manifest=Manifest.load(__name__),
    factory=SecuritiesConnector,
    simulator=create_simulator,
)

__all__ = [
    "CONNECTOR",
    "SecuritiesConnector",
    "create_simulator",
    "records_from_wire",
    "result_from_wire",
]
