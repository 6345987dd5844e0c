"""parse_callback() indexes the body blindly: an unreadable callback raises KeyError."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.banks import BanksConnector
from connectors.banks.adapter import result_from_wire
from connectors.sdk.types import CallbackAnswer
from tests.conformance.broken._base import BANKS, spec


class BlindParser(BanksConnector):
    def parse_callback(self, body: Mapping[str, Any]) -> Sequence[CallbackAnswer]:
        return [CallbackAnswer(item["Ticket"], result_from_wire(item) if item["Status"] == "DONE" else None,
                               rejection=item.get("ErrorMessage")) for item in body["Items"]]


EXPECTED = ("callbacks.signed", "parse_callback() of an unreadable body raised KeyError, expected RejectedError")
CONNECTOR = spec(BANKS, factory=BlindParser)
