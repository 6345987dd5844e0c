"""Every failure of the registry is reported as a refusal: an outage would end the task for good."""

from __future__ import annotations

from connectors.sdk.errors import RejectedError, TransientError
from connectors.sdk.types import AgencyRequest, AgencyResult
from connectors.vehicles import VehiclesConnector
from tests.conformance.broken._base import VEHICLES, spec


class OutagesAsRefusals(VehiclesConnector):
    async def check(self) -> None:
        try:
            await super().check()
        except TransientError as exc:
            raise RejectedError(exc.message, code="agency_error") from exc

    async def search(self, request: AgencyRequest) -> AgencyResult:
        try:
            return await super().search(request)
        except TransientError as exc:
            raise RejectedError(exc.message, code="agency_error") from exc


EXPECTED = ("errors.transient", "check() with HTTP 5xx raised RejectedError (agency_error")
CONNECTOR = spec(VEHICLES, factory=OutagesAsRefusals)
