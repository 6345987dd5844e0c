"""Per-agency politeness in this process: a circuit breaker and a token-bucket rate limiter.

The agency-wide concurrency limit (bulkhead) is enforced where tasks are claimed, in SQL, so
that it holds across every worker process; the rate limit and the breaker are per process.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from enum import IntEnum

import structlog

from connectors.sdk.manifest import BreakerPolicy

log = structlog.get_logger(__name__)


class BreakerState(IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreaker:
    """Opens when, over the last ``min_calls`` or more calls, failures reach ``failure_ratio``.

    Open: no call goes out for ``open_seconds``; then half-open lets ``half_open_probes`` calls
    through; all of them succeeding closes it, any failing opens it again. The log says once
    when the agency goes down and once when it is back.
    """

    def __init__(
        self,
        agency: str,
        policy: BreakerPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        self.agency = agency
        self.policy = policy
        self._clock = clock
        self._window: deque[bool] = deque(maxlen=max(policy.min_calls * 2, 10))
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probes_out = 0
        self._probes_ok = 0
        self._on_change = on_change

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.policy.open_seconds:
            self._set(BreakerState.HALF_OPEN)
            self._probes_out = 0
            self._probes_ok = 0
        return self._state

    def retry_in(self) -> float:
        """Seconds until the breaker lets a call through again (0 when it does now)."""
        if self.state is BreakerState.OPEN:
            return max(0.0, self.policy.open_seconds - (self._clock() - self._opened_at))
        return 0.0

    def allows(self) -> bool:
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN:
            return self._probes_out < self.policy.half_open_probes
        return False

    def capacity(self, wanted: int) -> int:
        """How many calls may start now (half-open admits only the probes left)."""
        state = self.state
        if state is BreakerState.CLOSED:
            return wanted
        if state is BreakerState.HALF_OPEN:
            return max(0, min(wanted, self.policy.half_open_probes - self._probes_out))
        return 0

    def on_start(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            self._probes_out += 1

    def record(self, ok: bool) -> None:
        if self._state is BreakerState.HALF_OPEN:
            if not ok:
                self._open()
                return
            self._probes_ok += 1
            if self._probes_ok >= self.policy.half_open_probes:
                self._window.clear()
                self._set(BreakerState.CLOSED)
                log.info("agency_recovered", agency=self.agency)
            return
        if self._state is BreakerState.OPEN:
            return
        self._window.append(ok)
        if len(self._window) >= self.policy.min_calls:
            failures = sum(1 for x in self._window if not x)
            if failures / len(self._window) >= self.policy.failure_ratio:
                self._open()
                log.warning(
                    "agency_down", agency=self.agency, failures=failures, calls=len(self._window),
                    open_seconds=self.policy.open_seconds,
                )

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._window.clear()
        self._set(BreakerState.OPEN)

    def _set(self, state: BreakerState) -> None:
        if state is not self._state:
            self._state = state
            if self._on_change is not None:
                self._on_change(state)


class RateLimiter:
    """A token bucket: ``rate`` calls per second, bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: float | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._clock = clock
        self._last = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def available(self) -> int:
        self._refill()
        return int(self._tokens)

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                self._refill()
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)


__all__ = ["BreakerState", "CircuitBreaker", "RateLimiter"]
