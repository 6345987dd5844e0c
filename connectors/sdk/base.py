"""A base class that gives a connector the parts every agency shares.

Subclasses implement ``check`` and ``search`` (and ``poll`` / ``search_batch`` /
``parse_callback`` where their manifest says so). The defaults here refuse clearly, so a sync
connector that is asked to poll fails with a message, not an AttributeError.

``self.manifest`` is the effective manifest: the class's own (``manifest = Manifest.load(...)``)
unless the deployment passed one with overrides in ``ConnectorConfig.manifest``; read limits
such as ``self.manifest.batch.max_size`` from it, never from the module-level manifest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from connectors.sdk.errors import ConfigurationError, RejectedError
from connectors.sdk.manifest import Manifest
from connectors.sdk.types import (
    AgencyRequest,
    CallbackAnswer,
    ConnectorConfig,
    ControlOutcome,
    ControlRequest,
    ItemOutcome,
    Outcome,
    Rejected,
)


class BaseConnector:
    manifest: Manifest

    def __init__(self, config: ConnectorConfig, session: aiohttp.ClientSession) -> None:
        self.config = config
        self.session = session
        if config.manifest is not None:
            declared = getattr(type(self), "manifest", None)
            if declared is not None and declared.name != config.manifest.name:
                raise ConfigurationError(
                    f"{type(self).__name__} is the {declared.name!r} connector, "
                    f"not {config.manifest.name!r}",
                    code="manifest_mismatch",
                )
            self.manifest = config.manifest

    async def check(self) -> None:
        raise NotImplementedError

    async def search(self, request: AgencyRequest) -> Outcome:
        raise NotImplementedError

    async def poll(self, ticket: str) -> Outcome:
        raise RejectedError(f"{self.manifest.name} answers synchronously; nothing to poll")

    async def search_batch(self, requests: Sequence[AgencyRequest]) -> Sequence[ItemOutcome]:
        """One ``search`` per request; a refused request becomes ``Rejected`` in its slot."""
        outcomes: list[ItemOutcome] = []
        for request in requests:
            try:
                outcomes.append(await self.search(request))
            except RejectedError as exc:
                outcomes.append(Rejected(exc.message, exc.code))
        return outcomes

    def parse_callback(self, body: Mapping[str, Any]) -> Sequence[CallbackAnswer]:
        raise RejectedError(f"{self.manifest.name} does not send callbacks")

    async def control(self, request: ControlRequest) -> ControlOutcome:
        """Connectors whose manifest declares ``controls`` override this."""
        raise RejectedError(f"{self.manifest.name} takes no control operations", code="control_not_supported")

    async def control_status(self, ticket: str) -> ControlOutcome:
        """Connectors whose manifest declares ``controls.answers: "async"`` override this."""
        raise RejectedError(f"{self.manifest.name} answers controls synchronously; nothing to poll",
                            code="control_not_async")


__all__ = ["BaseConnector"]
