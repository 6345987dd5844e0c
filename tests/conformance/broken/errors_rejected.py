"""The refusal message quotes the subject's ID number, which then lands in logs and task rows."""

from __future__ import annotations

from connectors.sdk.errors import RejectedError
from connectors.sdk.types import AgencyRequest, AgencyResult
from connectors.vehicles import VehiclesConnector
from tests.conformance.broken._base import VEHICLES, spec


class EchoesTheId(VehiclesConnector):
    async def search(self, request: AgencyRequest) -> AgencyResult:
        try:
            return await super().search(request)
        except RejectedError as exc:
            raise RejectedError(f"{exc.message}（证件号码 {request.subject.id_number}）", code=exc.code) from exc


EXPECTED = ("errors.rejected", "the RejectedError message echoes the subject's ID number or name")
CONNECTOR = spec(VEHICLES, factory=EchoesTheId)
