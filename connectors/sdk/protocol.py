"""The one small protocol every partner-agency connector implements.

The orchestrator knows this protocol and the registry, never a concrete agency.

- ``check()``: is the agency reachable and are our credentials good? Raises a ConnectorError.
- ``search(request)``: ask about one subject; returns an ``AgencyResult`` or a ``Pending`` ticket.
- ``poll(ticket)``: for deferred agencies, ask whether a ticket has been answered.
- ``search_batch(requests)``: for batch-capable agencies, submit many subjects in one call;
  returns one outcome per request, in order: ``AgencyResult``, ``Pending``, or ``Rejected``
  for an item the agency refused (the rest of the batch stands).
- ``control(request)``: a control operation (freeze, renew, release, deduct, seal), for agencies
  whose manifest declares ``controls``; returns a ``ControlResult`` (accepted with its effect,
  partially done, or refused with the reason). Idempotent by ``request.idempotency_key``: a
  re-sent operation is answered with the first result, never applied twice. An agency whose
  manifest says ``controls.answers: "async"`` may answer ``Pending`` (accepted for processing,
  with a ticket; a re-sent key gets the same ticket or the final answer).
- ``control_status(ticket)``: for async controls, ``Pending`` while the agency processes, then the
  ``ControlResult`` (the same on every later poll); an unknown ticket raises ``RejectedError``.
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

from connectors.sdk.errors import ConfigurationError
from connectors.sdk.manifest import Manifest
from connectors.sdk.simulator_kit import SimulatorConfig
from connectors.sdk.types import (
    AgencyRequest,
    CallbackAnswer,
    ConnectorConfig,
    ControlOutcome,
    ControlRequest,
    ItemOutcome,
    Outcome,
)


@runtime_checkable
class Connector(Protocol):
    manifest: Manifest

    async def check(self) -> None: ...

    async def search(self, request: AgencyRequest) -> Outcome: ...

    async def poll(self, ticket: str) -> Outcome: ...

    async def search_batch(self, requests: Sequence[AgencyRequest]) -> Sequence[ItemOutcome]: ...

    def parse_callback(self, body: Mapping[str, Any]) -> Sequence[CallbackAnswer]: ...

    async def control(self, request: ControlRequest) -> ControlOutcome: ...

    async def control_status(self, ticket: str) -> ControlOutcome: ...


ConnectorFactory = Callable[[ConnectorConfig, aiohttp.ClientSession], Connector]


class SimulatorFactory(Protocol):
    """``create_simulator(config=None) -> web.Application``, built with the simulator kit."""

    def __call__(self, config: SimulatorConfig | None = None, /) -> web.Application: ...


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """What a connector package exports as ``CONNECTOR`` (and names in its entry point)."""

    manifest: Manifest
    factory: ConnectorFactory
    simulator: SimulatorFactory | None = None

    @property
    def name(self) -> str:
        return self.manifest.name

    def make_simulator(self, config: SimulatorConfig | None = None) -> web.Application:
        """The connector's simulator app; ConfigurationError when the package ships none."""
        if self.simulator is None:
            raise ConfigurationError(
                f"connector {self.name!r} ships no simulator", code="no_simulator"
            )
        return self.simulator(config)


__all__ = ["Connector", "ConnectorFactory", "ConnectorSpec", "SimulatorFactory"]
