"""Per-agency politeness in this process: a circuit breaker and a token-bucket rate limiter.

The agency-wide concurrency limit (bulkhead) is enforced where tasks are claimed, in SQL, so
that it holds across every worker process. The breaker counts this process's own calls; when
it opens or closes, the dispatcher publishes the change to PostgreSQL (``agency_breaker``) and
every other process adopts it, so an open breaker keeps *every* worker away from the agency
(docs/decisions/0301-shared-breaker-and-rate.md). The rate limiter's rate is this process's
share of the agency's rate: the dispatcher divides it by the number of live workers.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from enum import IntEnum

from connectors.sdk.manifest import BreakerPolicy


class BreakerState(IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


Transition = tuple[BreakerState, BreakerState]


class CircuitBreaker:
    """Opens when, over the last ``min_calls`` or more calls, failures reach ``failure_ratio``.

    Open: no call goes out for ``open_seconds``; then half-open lets ``half_open_probes`` calls
    through; all of them succeeding closes it, any failing opens it again.

    Transitions caused by this process's calls (closed -> open, half-open -> open, half-open ->
    closed) are queued in ``pending`` for the dispatcher to publish; ``adopt`` applies a state
    another process published, without queuing anything. ``on_change`` hears every change (for
    the gauge); ``on_transition`` hears the ones to publish (to wake the publisher).
    """

    def __init__(
        self,
        agency: str,
        policy: BreakerPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState], None] | None = None,
        on_transition: Callable[[], None] | None = None,
    ) -> None:
        self.agency = agency
        self.policy = policy
        self._clock = clock
        self._window: deque[bool] = deque(maxlen=max(policy.min_calls * 2, 10))
        self._state = BreakerState.CLOSED
        self._open_until = 0.0
        self._probes_out = 0
        self._probes_ok = 0
        self._on_change = on_change
        self.on_transition = on_transition
        self.pending: list[Transition] = []
        self.last_failures = 0
        self.last_calls = 0

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() >= self._open_until:
            self._set(BreakerState.HALF_OPEN)
            self._probes_out = 0
            self._probes_ok = 0
        return self._state

    def retry_in(self) -> float:
        """Seconds until the breaker lets a call through again (0 when it does now)."""
        if self.state is BreakerState.OPEN:
            return max(0.0, self._open_until - self._clock())
        return 0.0

    def allows(self) -> bool:
        if self._state is BreakerState.CLOSED:  # only an open breaker changes by itself, with time
            return True
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
        if self._state is not BreakerState.CLOSED and self.state is BreakerState.HALF_OPEN:
            self._probes_out += 1

    def record(self, ok: bool) -> None:
        state = self._state if self._state is BreakerState.CLOSED else self.state
        if state is BreakerState.HALF_OPEN:
            if not ok:
                self._open(self.policy.open_seconds)
                self._queue(BreakerState.HALF_OPEN, BreakerState.OPEN)
                return
            self._probes_ok += 1
            if self._probes_ok >= self.policy.half_open_probes:
                self._window.clear()
                self._set(BreakerState.CLOSED)
                self._queue(BreakerState.HALF_OPEN, BreakerState.CLOSED)
            return
        if state is BreakerState.OPEN:
            return
        self._window.append(ok)
        if len(self._window) >= self.policy.min_calls:
            failures = sum(1 for x in self._window if not x)
            if failures / len(self._window) >= self.policy.failure_ratio:
                self.last_failures, self.last_calls = failures, len(self._window)
                self._open(self.policy.open_seconds)
                self._queue(BreakerState.CLOSED, BreakerState.OPEN)

    def adopt(self, state: BreakerState, remaining_seconds: float = 0.0) -> None:
        """Take on a state published by another process (or by this one, read back)."""
        if state is BreakerState.OPEN and remaining_seconds > 0:
            if self._state is not BreakerState.OPEN or abs(self.retry_in() - remaining_seconds) > 0.5:
                self._open(remaining_seconds)
        elif state is BreakerState.OPEN or state is BreakerState.HALF_OPEN:
            if self.state is not BreakerState.HALF_OPEN:
                self._window.clear()
                self._probes_out = 0
                self._probes_ok = 0
                self._set(BreakerState.HALF_OPEN)
        elif self.state is not BreakerState.CLOSED:
            self._window.clear()
            self._set(BreakerState.CLOSED)

    def _queue(self, before: BreakerState, after: BreakerState) -> None:
        self.pending.append((before, after))
        if self.on_transition is not None:
            self.on_transition()

    def _open(self, seconds: float) -> None:
        self._open_until = self._clock() + seconds
        self._window.clear()
        self._set(BreakerState.OPEN)

    def _set(self, state: BreakerState) -> None:
        if state is not self._state:
            self._state = state
            if self._on_change is not None:
                self._on_change(state)


class RateLimiter:
    """A token bucket: ``rate`` calls per second, bursts of up to ``burst``.

    ``set_rate`` changes the rate (the dispatcher gives each live worker its share of the
    agency's rate); the burst is a quarter of a second's worth, at least one call, so that
    the agency never sees much more than its rate over any window of a second or more.
    """

    def __init__(self, rate: float, burst: float | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._fixed_burst = burst
        self.rate = rate
        self.burst = self._burst_for(rate)
        self._tokens = self.burst
        self._last = clock()
        self._lock = asyncio.Lock()

    def _burst_for(self, rate: float) -> float:
        return self._fixed_burst if self._fixed_burst is not None else max(1.0, rate / 4)

    def set_rate(self, rate: float) -> None:
        if rate <= 0 or rate == self.rate:
            return
        self._refill()
        self.rate = rate
        self.burst = self._burst_for(rate)
        self._tokens = min(self._tokens, self.burst)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def available(self) -> int:
        self._refill()
        return int(self._tokens)

    def try_acquire(self) -> bool:
        """Take a token now if one is there and nobody waits for one (what ``acquire`` does then,
        without an await: the dispatcher's every call, issue 19); False: ``acquire``."""
        if self._lock.locked():
            return False
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                self._refill()
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)


__all__ = ["BreakerState", "CircuitBreaker", "RateLimiter", "Transition"]
