"""不动产登记 (real estate registrations): who holds which land parcels and buildings, with the
certificate number, area, address, and mortgage and seizure status.

A connector package from outside the service: it depends on the service's connector SDK
(``connectors.sdk``) and domain, and is found by the service only through its entry point
``enforcement.connectors: real_estate = real_estate_connector:CONNECTOR``.
"""

from __future__ import annotations

from connectors.sdk import ConnectorSpec, Manifest

from real_estate_connector.adapter import RealEstateConnector, records_from_wire, result_from_wire
from real_estate_connector.records import RealEstate
from real_estate_connector.simulator import create_simulator

CONNECTOR = ConnectorSpec(
    manifest=Manifest.load(__name__),
    factory=RealEstateConnector,
    simulator=create_simulator,
)

__all__ = [
    "CONNECTOR",
    "RealEstate",
    "RealEstateConnector",
    "create_simulator",
    "records_from_wire",
    "result_from_wire",
]
