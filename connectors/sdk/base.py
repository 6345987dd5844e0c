"""A base class that gives a connector the parts every agency shares.

Subclasses implement ``search`` (and ``poll`` / ``search_batch`` / ``parse_callback`` where
their manifest says so). The defaults here refuse clearly, so a sync connector that is asked to
poll fails with a message, not an AttributeError.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from connectors.sdk.errors import RejectedError
from connectors.sdk.manifest import Manifest
from connectors.sdk.types import AgencyRequest, CallbackAnswer, ConnectorConfig, Outcome


class BaseConnector:
    manifest: Manifest

    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        self.config = config
        self.session = session

    async def check(self) -> None:
        raise NotImplementedError

    async def search(self, request: AgencyRequest) -> Outcome:
        raise NotImplementedError

    async def poll(self, ticket: str) -> Outcome:
        raise RejectedError(f"{self.manifest.name} answers synchronously; nothing to poll")

    async def search_batch(self, requests: Sequence[AgencyRequest]) -> Sequence[Outcome]:
        return [await self.search(r) for r in requests]

    def parse_callback(self, body: Mapping[str, Any]) -> Sequence[CallbackAnswer]:
        raise RejectedError(f"{self.manifest.name} does not send callbacks")


__all__ = ["BaseConnector"]
