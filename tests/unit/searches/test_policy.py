from __future__ import annotations

import asyncio

from connectors.sdk.manifest import BreakerPolicy
from enforcement.searches.policy import BreakerState, CircuitBreaker, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_at_the_failure_ratio_after_min_calls_and_recovers_through_probes() -> None:
    clock = Clock()
    changes: list[BreakerState] = []
    b = CircuitBreaker("vehicles", BreakerPolicy(min_calls=4, failure_ratio=0.5, open_seconds=10, half_open_probes=2),
                       clock=clock, on_change=changes.append)
    for ok in (True, False, False):
        b.record(ok)
    assert b.state is BreakerState.CLOSED  # only 3 calls: below min_calls
    b.record(True)
    assert b.state is BreakerState.OPEN  # 2 of 4 failed
    assert not b.allows() and b.capacity(5) == 0
    clock.now = 9.9
    assert b.state is BreakerState.OPEN and 0 < b.retry_in() <= 0.1 + 1e-9
    clock.now = 10.0
    assert b.state is BreakerState.HALF_OPEN
    assert b.capacity(5) == 2
    b.on_start()
    b.on_start()
    assert not b.allows()
    b.record(True)
    b.record(True)
    assert b.state is BreakerState.CLOSED
    assert changes == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


def test_a_failed_probe_opens_again() -> None:
    clock = Clock()
    b = CircuitBreaker("banks", BreakerPolicy(1, 1.0, 5, 1), clock=clock)
    b.record(False)
    clock.now = 5
    assert b.state is BreakerState.HALF_OPEN
    b.on_start()
    b.record(False)
    assert b.state is BreakerState.OPEN


async def test_rate_limiter_spaces_calls() -> None:
    limiter = RateLimiter(rate=50, burst=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(6):
        await limiter.acquire()
    assert loop.time() - started >= 5 / 50 * 0.9


async def test_try_acquire_takes_a_token_only_when_one_is_there_and_nobody_waits() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=2, clock=clock)
    assert limiter.try_acquire() and limiter.try_acquire()
    assert not limiter.try_acquire()  # the burst is spent: the caller must wait in acquire()
    clock.now = 0.1  # one token refilled, but a caller already waits for it (holds the lock)
    async with limiter._lock:
        assert not limiter.try_acquire()
    assert limiter.try_acquire()
    assert not limiter.try_acquire()


def test_a_closed_breaker_counts_its_calls_and_opens_as_before() -> None:
    clock = Clock()
    b = CircuitBreaker("x", BreakerPolicy(min_calls=4, failure_ratio=0.5, open_seconds=5, half_open_probes=1),
                       clock=clock)
    for ok in (True, False, True, False):
        assert b.allows()
        b.on_start()
        b.record(ok)
    assert b.state is BreakerState.OPEN and not b.allows()
    clock.now = 6  # open until 5: half-open now, one probe
    assert b.allows()
    b.on_start()
    assert not b.allows()
    b.record(True)
    assert b.state is BreakerState.CLOSED and b.allows()
