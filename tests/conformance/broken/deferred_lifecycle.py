"""poll() takes the bank's "no such ticket" for "still processing": a lost ticket is polled forever."""

from __future__ import annotations

from connectors.banks import BanksConnector
from connectors.sdk.errors import RejectedError
from connectors.sdk.types import Outcome, Pending
from tests.conformance.broken._base import BANKS, spec


class PollsForever(BanksConnector):
    async def poll(self, ticket: str) -> Outcome:
        try:
            return await super().poll(ticket)
        except RejectedError:
            return Pending(ticket, poll_after_seconds=3600.0)


EXPECTED = ("deferred.lifecycle", "poll() of a ticket the agency never issued returned Pending instead of raising")
CONNECTOR = spec(BANKS, factory=PollsForever)
