"""The manifest covers persons only, but search() sends organizations to the registry anyway."""

from __future__ import annotations

from connectors.sdk.types import AgencyRequest, AgencyResult
from connectors.vehicles import VehiclesConnector
from connectors.vehicles.adapter import result_from_wire
from tests.conformance.broken._base import VEHICLES, manifest_with, spec


class AsksAnyway(VehiclesConnector):
    async def search(self, request: AgencyRequest) -> AgencyResult:
        return result_from_wire(await self._client.query_vehicles(request))


EXPECTED = ("search.answer_mode", "search() for an unsupported organization returned AgencyResult instead of raising")
CONNECTOR = spec(VEHICLES, factory=AsksAnyway, manifest=manifest_with(VEHICLES.manifest, subject_kinds=["person"]))
