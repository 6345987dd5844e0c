"""Declares controls in its manifest but never implements control()."""

from __future__ import annotations

from connectors.banks import BanksConnector
from connectors.sdk import BaseConnector
from tests.conformance.broken._base import BANKS, spec


class ControlsForgotten(BanksConnector):
    control = BaseConnector.control


EXPECTED = ("controls.declared", "the manifest declares controls but the connector does not implement control()")
CONNECTOR = spec(BANKS, factory=ControlsForgotten)
