"""Connector to the human resources and social security department (人力资源和社会保障厅):
insured employments (employer, insurance types, contribution base, status, last paid month)
and the pension being drawn."""

from __future__ import annotations

from connectors.sdk import ConnectorSpec, Manifest
from connectors.social_insurance.adapter import SocialInsuranceConnector, records_from_wire
from connectors.social_insurance.simulator import create_simulator

CONNECTOR = ConnectorSpec(
    manifest=Manifest.load(__name__),
    factory=SocialInsuranceConnector,
    simulator=create_simulator,
)

__all__ = ["CONNECTOR", "SocialInsuranceConnector", "create_simulator", "records_from_wire"]
