"""An agency as the orchestrator sees it at run time: its connector, effective policy,
breaker and rate limiter, built from the registry and the settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp

from connectors.sdk.manifest import Manifest
from connectors.sdk.protocol import Connector, ConnectorSpec
from connectors.sdk.registry import Registry
from connectors.sdk.types import ConnectorConfig
from enforcement import metrics
from enforcement.orchestrator.policy import BreakerState, CircuitBreaker, RateLimiter
from enforcement.settings import Settings


@dataclass
class AgencyRuntime:
    spec: ConnectorSpec
    manifest: Manifest
    connector: Connector
    breaker: CircuitBreaker
    limiter: RateLimiter
    in_flight: int = 0
    recent_latencies: list[float] = field(default_factory=list)
    last_error: str | None = None
    auth_failed: bool = False

    @property
    def name(self) -> str:
        return self.manifest.name

    def observe_latency(self, seconds: float) -> None:
        self.recent_latencies.append(seconds)
        if len(self.recent_latencies) > 200:
            del self.recent_latencies[:100]


def build_runtimes(
    registry: Registry, settings: Settings, session: aiohttp.ClientSession
) -> Mapping[str, AgencyRuntime]:
    runtimes: dict[str, AgencyRuntime] = {}
    for name in registry:
        spec = registry[name]
        manifest = spec.manifest.with_overrides(settings.agency_overrides.get(name, {}))
        config = ConnectorConfig(
            base_url=settings.agency_urls.get(name, manifest.default_url),
            secret=settings.agency_secrets.get(name, "sim-key"),
            timeout_seconds=manifest.policy.timeout_seconds,
        )
        gauge = metrics.BREAKER_STATE.labels(agency=name)
        gauge.set(BreakerState.CLOSED)
        runtimes[name] = AgencyRuntime(
            spec=spec,
            manifest=manifest,
            connector=spec.factory(config, session),
            breaker=CircuitBreaker(name, manifest.policy.breaker, on_change=lambda s, g=gauge: g.set(s)),
            limiter=RateLimiter(manifest.policy.rate_per_second),
        )
    return runtimes


__all__ = ["AgencyRuntime", "build_runtimes"]
