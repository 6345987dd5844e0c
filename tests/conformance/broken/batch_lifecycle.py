"""A refused batch item comes back as a Pending ticket to poll (the SDK's old workaround), not
as Rejected."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.banks import BanksConnector
from connectors.sdk.types import AgencyRequest, ItemOutcome, Pending
from tests.conformance.broken._base import BANKS, spec


class RefusalsAsTickets(BanksConnector):
    async def search_batch(self, requests: Sequence[AgencyRequest]) -> Sequence[ItemOutcome]:
        items = await self._submit(list(requests))
        return [Pending(str(item["Ticket"]), 0.0) for item in items]


EXPECTED = ("batch.lifecycle", "the batch item without a document number came back as Pending, not Rejected")
CONNECTOR = spec(BANKS, factory=RefusalsAsTickets)
