"""The wire client invents a fresh serial number (ywlsh) per call instead of the idempotency key."""

from __future__ import annotations

import uuid
from dataclasses import replace

from connectors.sdk.types import AgencyRequest, AgencyResult
from connectors.vehicles import VehiclesConnector
from tests.conformance.broken._base import VEHICLES, spec


class FreshSerialNumbers(VehiclesConnector):
    async def search(self, request: AgencyRequest) -> AgencyResult:
        return await super().search(replace(request, idempotency_key=uuid.uuid4().hex))


EXPECTED = ("search.idempotent", "the same idempotency key sent twice counted 2 effective queries, not 1")
CONNECTOR = spec(VEHICLES, factory=FreshSerialNumbers)
