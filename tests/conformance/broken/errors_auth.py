"""The connector replaces the agency's reason for refusing the credential with its own words."""

from __future__ import annotations

from connectors.sdk.errors import AuthError
from connectors.sdk.types import AgencyRequest, AgencyResult
from connectors.vehicles import VehiclesConnector
from tests.conformance.broken._base import VEHICLES, spec


class LosesTheReason(VehiclesConnector):
    async def check(self) -> None:
        try:
            await super().check()
        except AuthError as exc:
            raise AuthError("authentication failed", code=exc.code) from exc

    async def search(self, request: AgencyRequest) -> AgencyResult:
        try:
            return await super().search(request)
        except AuthError as exc:
            raise AuthError("authentication failed", code=exc.code) from exc


EXPECTED = ("errors.auth", "lost the agency's reason '身份认证失败'")
CONNECTOR = spec(VEHICLES, factory=LosesTheReason)
