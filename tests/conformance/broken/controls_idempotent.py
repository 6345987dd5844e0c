"""Sends every control with a fresh key: a re-sent freeze is applied twice at the bank."""

from __future__ import annotations

import uuid
from dataclasses import replace

from connectors.banks import BanksConnector
from connectors.sdk import ControlOutcome, ControlRequest
from tests.conformance.broken._base import BANKS, spec


class FreshControlKeys(BanksConnector):
    async def control(self, request: ControlRequest) -> ControlOutcome:
        return await super().control(replace(request, idempotency_key=uuid.uuid4().hex))


EXPECTED = ("controls.idempotent", "the agency acted twice")
CONNECTOR = spec(BANKS, factory=FreshControlKeys)
