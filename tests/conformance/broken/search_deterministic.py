"""The mapping copies the answer's query number (cxbh) into each record, so records change per query."""

from __future__ import annotations

from dataclasses import replace

from connectors.sdk.types import AgencyRequest, AgencyResult
from connectors.vehicles import VehiclesConnector
from enforcement.domain.assets import Vehicle
from tests.conformance.broken._base import VEHICLES, spec


class QueryNumberInRecords(VehiclesConnector):
    async def search(self, request: AgencyRequest) -> AgencyResult:
        result = await super().search(request)
        ref = result.agency_reference or ""
        records = tuple(replace(r, engine_number=ref[-12:]) if isinstance(r, Vehicle) else r for r in result.records)
        return replace(result, records=records)


EXPECTED = ("search.deterministic", "two queries about the same subject gave different records")
CONNECTOR = spec(VEHICLES, factory=QueryNumberInRecords)
