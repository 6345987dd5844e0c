"""A gateway outage during a batch comes back as a Rejected item per request (as if the bank had
refused each one), not as the TransientError a single search raises: the items would be
dropped instead of retried."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.banks import BanksConnector
from connectors.sdk import AgencyRequest, ConnectorError, ItemOutcome, Rejected
from tests.conformance.broken._base import BANKS, spec


class OutagesAsRefusals(BanksConnector):
    async def search_batch(self, requests: Sequence[AgencyRequest]) -> Sequence[ItemOutcome]:
        try:
            return await super().search_batch(requests)
        except ConnectorError as exc:
            return [Rejected(exc.message, exc.code) for _ in requests]


EXPECTED = ("batch.errors", "search_batch() with HTTP 5xx returned list instead of raising TransientError")
CONNECTOR = spec(BANKS, factory=OutagesAsRefusals)
