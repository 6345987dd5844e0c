"""The connector re-wraps transient errors and drops the agency's Retry-After."""

from __future__ import annotations

from connectors.sdk.errors import TransientError
from connectors.sdk.types import AgencyRequest, AgencyResult
from connectors.vehicles import VehiclesConnector
from tests.conformance.broken._base import VEHICLES, spec


class DropsRetryAfter(VehiclesConnector):
    async def check(self) -> None:
        try:
            await super().check()
        except TransientError as exc:
            raise TransientError(exc.message, code=exc.code) from exc

    async def search(self, request: AgencyRequest) -> AgencyResult:
        try:
            return await super().search(request)
        except TransientError as exc:
            raise TransientError(exc.message, code=exc.code) from exc


EXPECTED = ("errors.rate_limited", "check() when throttled with Retry-After: 7 gave retry_after=None")
CONNECTOR = spec(VEHICLES, factory=DropsRetryAfter)
