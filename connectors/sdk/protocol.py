"""The one small protocol every partner-agency connector implements.

The orchestrator knows this protocol and the registry, never a concrete agency.

- ``check()``: is the agency reachable and are our credentials good? Raises a ConnectorError.
- ``search(request)``: ask about one subject; returns an ``AgencyResult`` or a ``Pending`` ticket.
- ``poll(ticket)``: for deferred agencies, ask whether a ticket has been answered.
- ``search_batch(requests)``: for batch-capable agencies, submit many subjects in one call;
  returns one outcome per request, in order.
- ``parse_callback(body)``: for agencies that push answers, turn a verified callback body into
  per-ticket answers. Signature checking is the service's job, not the connector's.

Connectors never retry: they translate every failure into TransientError, AuthError or
RejectedError (``raise ... from exc``) and let the orchestrator decide.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import aiohttp
from aiohttp import web

from connectors.sdk.manifest import Manifest
from connectors.sdk.types import (
    AgencyRequest,
    CallbackAnswer,
    ConnectorConfig,
    Outcome,
)


@runtime_checkable
class Connector(Protocol):
    manifest: Manifest

    async def check(self) -> None: ...

    async def search(self, request: AgencyRequest) -> Outcome: ...

    async def poll(self, ticket: str) -> Outcome: ...

    async def search_batch(self, requests: Sequence[AgencyRequest]) -> Sequence[Outcome]: ...

    def parse_callback(self, body: Mapping[str, Any]) -> Sequence[CallbackAnswer]: ...


ConnectorFactory = Callable[[ConnectorConfig, aiohttp.ClientSession], Connector]
SimulatorFactory = Callable[..., web.Application]


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """What a connector package exports as ``CONNECTOR`` (and names in its entry point)."""

    manifest: Manifest
    factory: ConnectorFactory
    simulator: SimulatorFactory | None = None

    @property
    def name(self) -> str:
        return self.manifest.name


__all__ = ["Connector", "ConnectorFactory", "ConnectorSpec", "SimulatorFactory"]
