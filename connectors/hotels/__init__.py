"""旅馆业住宿登记: where a natural person stayed, in which hotel, with its star rating."""

from __future__ import annotations

from connectors.hotels.adapter import HotelsConnector, records_from_wire, result_from_wire
from connectors.hotels.simulator import create_simulator
from connectors.sdk import ConnectorSpec, Manifest

CONNECTOR = ConnectorSpec(
    manifest=Manifest.load(__name__),
    factory=HotelsConnector,
    simulator=create_simulator,
)

__all__ = [
    "CONNECTOR",
    "HotelsConnector",
    "create_simulator",
    "records_from_wire",
    "result_from_wire",
]
