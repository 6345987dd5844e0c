"""Stamps a polled control answer with the time of the poll: each poll of one ticket answers anew."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from connectors.banks import BanksConnector
from connectors.sdk import ControlOutcome, ControlResult
from tests.conformance.broken._base import BANKS, spec


class PollTimeStamped(BanksConnector):
    async def control_status(self, ticket: str) -> ControlOutcome:
        outcome = await super().control_status(ticket)
        if isinstance(outcome, ControlResult):
            return replace(outcome, answered_at=datetime.now(UTC))
        return outcome


EXPECTED = ("controls.async", "polling the answered control ticket again")
CONNECTOR = spec(BANKS, factory=PollTimeStamped)
