"""The mapping puts the plate type's label (小型汽车) where the schema wants its GA 24.7 code."""

from __future__ import annotations

from dataclasses import replace

from connectors.sdk.types import AgencyRequest, AgencyResult
from connectors.vehicles import VehiclesConnector
from connectors.vehicles.codes import PLATE_TYPES
from enforcement.domain.assets import Vehicle
from tests.conformance.broken._base import VEHICLES, spec


class LabelsForCodes(VehiclesConnector):
    async def search(self, request: AgencyRequest) -> AgencyResult:
        result = await super().search(request)
        records = tuple(
            replace(r, plate_type=PLATE_TYPES.get(r.plate_type, "小型汽车")) if isinstance(r, Vehicle) else r
            for r in result.records
        )
        return replace(result, records=records)


EXPECTED = ("search.records_valid", "does not validate against schemas/records/vehicle.schema.json at plate_type")
CONNECTOR = spec(VEHICLES, factory=LabelsForCodes)
