"""An agency as the orchestrator sees it at run time: its connector, effective policy,
breaker, rate limiter and recent calls, built from the registry and the settings."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import aiohttp
from prometheus_client import Gauge

from connectors.sdk.manifest import Manifest
from connectors.sdk.protocol import Connector, ConnectorSpec
from connectors.sdk.registry import Registry
from connectors.sdk.types import ConnectorConfig
from enforcement.kernel import metrics
from enforcement.kernel.settings import Settings
from enforcement.searches.policy import BreakerState, CircuitBreaker, RateLimiter


@dataclass(frozen=True, slots=True)
class CallSummary:
    """This process's recent calls to one agency: what GET /api/v1/agencies shows."""

    calls: int
    failures: int
    p50_seconds: float | None
    p95_seconds: float | None
    last_call_wall: float | None  # unix time of the last call's end


class RecentCalls:
    """A sliding window (``window_seconds``, at most ``max_samples``) of calls and outcomes."""

    def __init__(self, window_seconds: float = 60.0, max_samples: int = 2000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window_seconds = window_seconds
        self._samples: deque[tuple[float, float, bool]] = deque(maxlen=max_samples)
        self._clock = clock
        self._last_wall: float | None = None

    def add(self, seconds: float, ok: bool) -> None:
        self._samples.append((self._clock(), seconds, ok))
        self._last_wall = time.time()

    def summary(self) -> CallSummary:
        horizon = self._clock() - self.window_seconds
        while self._samples and self._samples[0][0] < horizon:
            self._samples.popleft()
        durations = sorted(d for _, d, _ in self._samples)
        failures = sum(1 for _, _, ok in self._samples if not ok)

        def pct(q: float) -> float | None:
            if not durations:
                return None
            return durations[min(len(durations) - 1, int(q * len(durations)))]

        return CallSummary(len(durations), failures, pct(0.5), pct(0.95), self._last_wall)


@dataclass
class AgencyRuntime:
    spec: ConnectorSpec
    manifest: Manifest
    connector: Connector
    breaker: CircuitBreaker
    limiter: RateLimiter
    in_flight: int = 0
    recent: RecentCalls = field(default_factory=RecentCalls)
    last_error: str | None = None
    auth_failed: bool = False

    @property
    def name(self) -> str:
        return self.manifest.name

    def observe_call(self, seconds: float, ok: bool) -> None:
        self.recent.add(seconds, ok)


def _gauge_setter(gauge: Gauge) -> Callable[[BreakerState], None]:
    def set_state(state: BreakerState) -> None:
        gauge.set(int(state))

    return set_state


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
            manifest=manifest,  # the effective one: the connector sees the overrides too
        )
        gauge = metrics.BREAKER_STATE.labels(agency=name)
        gauge.set(BreakerState.CLOSED)
        runtimes[name] = AgencyRuntime(
            spec=spec,
            manifest=manifest,
            connector=spec.factory(config, session),
            breaker=CircuitBreaker(name, manifest.policy.breaker, on_change=_gauge_setter(gauge)),
            limiter=RateLimiter(manifest.policy.rate_per_second),
        )
    return runtimes


__all__ = ["AgencyRuntime", "CallSummary", "RecentCalls", "build_runtimes"]
