"""Connector to the exit-entry administration (出入境管理局): travel documents, border
crossings within the requested period, and whether an exit restriction (边控) is in force."""

from __future__ import annotations

from connectors.exit_entry.adapter import ExitEntryConnector, records_from_wire
from connectors.exit_entry.simulator import create_simulator
from connectors.sdk import ConnectorSpec, Manifest

CONNECTOR = ConnectorSpec(
    manifest=Manifest.load(__name__),
    factory=ExitEntryConnector,
    simulator=create_simulator,
)

__all__ = ["CONNECTOR", "ExitEntryConnector", "create_simulator", "records_from_wire"]
