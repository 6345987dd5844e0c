"""公安交管 vehicle registrations: who owns which motor vehicles, with plate, VIN and status."""

from __future__ import annotations

from connectors.sdk import ConnectorSpec, Manifest
from connectors.vehicles.adapter import VehiclesConnector, records_from_wire, result_from_wire
from connectors.vehicles.simulator import create_simulator

CONNECTOR = ConnectorSpec(
    manifest=Manifest.load(__name__),
    factory=VehiclesConnector,
    simulator=create_simulator,
)

__all__ = [
    "CONNECTOR",
    "VehiclesConnector",
    "create_simulator",
    "records_from_wire",
    "result_from_wire",
]
