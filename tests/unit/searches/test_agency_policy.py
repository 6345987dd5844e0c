"""Agency politeness without I/O: breaker transitions to publish and states to adopt, the rate
share, the retry schedule (Retry-After honoured), recent-call summaries, health, and the
per-agency settings that override the manifest."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.banks import CONNECTOR as BANKS
from connectors.sdk.manifest import BreakerPolicy, RetryPolicy
from enforcement.kernel.settings import Settings
from enforcement.searches.agency_view import health_of
from enforcement.searches.dispatcher import retry_delay
from enforcement.searches.policy import BreakerState, CircuitBreaker, RateLimiter
from enforcement.searches.runtime import RecentCalls
from enforcement.searches.store.agencies import AgencyCallStats


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_own_transitions_are_queued_for_publishing_and_wake_the_publisher() -> None:
    clock = Clock()
    woken: list[int] = []
    b = CircuitBreaker("vehicles", BreakerPolicy(min_calls=3, failure_ratio=1.0, open_seconds=5, half_open_probes=1),
                       clock=clock, on_transition=lambda: woken.append(1))
    for _ in range(3):
        b.record(False)
    assert b.pending == [(BreakerState.CLOSED, BreakerState.OPEN)]
    assert (b.last_failures, b.last_calls) == (3, 3)
    clock.now = 5
    b.on_start()
    b.record(False)  # the probe fails: open again
    clock.now = 10
    b.on_start()
    b.record(True)  # the next probe succeeds: closed
    assert b.pending == [
        (BreakerState.CLOSED, BreakerState.OPEN),
        (BreakerState.HALF_OPEN, BreakerState.OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]
    assert len(woken) == 3


def test_adopting_another_workers_state_queues_nothing() -> None:
    clock = Clock()
    b = CircuitBreaker("banks", BreakerPolicy(min_calls=10, failure_ratio=0.5, open_seconds=30, half_open_probes=2),
                       clock=clock)
    b.adopt(BreakerState.OPEN, remaining_seconds=12.0)
    assert b.state is BreakerState.OPEN and not b.allows()
    assert 11.9 < b.retry_in() <= 12.0
    clock.now = 12.0
    assert b.state is BreakerState.HALF_OPEN  # opens for probes when the shared open time ends
    b.adopt(BreakerState.CLOSED)
    assert b.state is BreakerState.CLOSED and b.allows()
    b.adopt(BreakerState.HALF_OPEN)
    assert b.capacity(10) == 2
    assert b.pending == []


def test_rate_share_and_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(20.0, clock=clock)
    assert limiter.burst == 5.0  # a quarter of a second's worth
    limiter.set_rate(20.0 / 4)  # four live workers share the agency's 20/s
    assert limiter.rate == 5.0 and limiter.burst == 1.25
    assert limiter.available() == 1
    clock.now = 10
    assert limiter.available() == 1  # never more than the burst, however long it waited
    limiter.set_rate(0)  # nonsense is ignored
    assert limiter.rate == 5.0


def test_retry_delay_is_exponential_capped_jittered_and_honours_retry_after() -> None:
    policy = RetryPolicy(max_attempts=4, initial_backoff_seconds=1.0, max_backoff_seconds=30.0)
    assert [retry_delay(policy, n, jitter=lambda: 1.0) for n in (1, 2, 3, 4, 5, 6)] == [1, 2, 4, 8, 16, 30]
    assert retry_delay(policy, 3, jitter=lambda: 0.0) == 2.0  # jitter keeps at least half
    assert retry_delay(policy, 1, 7.5, jitter=lambda: 0.0) == 7.5  # Retry-After wins when longer
    assert retry_delay(policy, 5, 0.1, jitter=lambda: 1.0) == 16.0  # ... and never shortens the backoff
    assert retry_delay(policy, 10_000, jitter=lambda: 1.0) == 30.0


def test_recent_calls_summarize_the_window() -> None:
    clock = Clock()
    recent = RecentCalls(window_seconds=60, clock=clock)
    for i in range(100):
        recent.add(i / 1000, ok=i % 10 != 0)
    s = recent.summary()
    assert (s.calls, s.failures) == (100, 10)
    assert s.p50_seconds == 0.05 and s.p95_seconds == 0.095
    clock.now = 61
    assert recent.summary().calls == 0


def _stats(calls: int, failures: int, auth: bool = False) -> AgencyCallStats:
    return AgencyCallStats("vehicles", 1, calls, failures, 0.01, 0.02, 0, auth, None, datetime.now(UTC))


def test_health_of_an_agency() -> None:
    assert health_of("open", _stats(10, 0), 1) == "down"
    assert health_of("half_open", _stats(10, 0), 1) == "recovering"
    assert health_of("closed", _stats(10, 0, auth=True), 1) == "auth_failed"
    assert health_of("closed", _stats(10, 2), 1) == "degraded"
    assert health_of("closed", _stats(4, 4), 1) == "up"  # too few calls to judge
    assert health_of("closed", None, 0) == "unknown"
    assert health_of("closed", _stats(10, 1), 2) == "up"


def test_settings_read_callback_secrets_and_every_policy_override() -> None:
    env = {
        "AGENCY_BANKS_CALLBACK_SECRET": "cb-secret",
        "AGENCY_BANKS_SECRET": "app-key",
        "AGENCY_BANKS_BREAKER_HALF_OPEN_PROBES": "3",
        "AGENCY_BANKS_INITIAL_BACKOFF_SECONDS": "0.5",
        "AGENCY_BANKS_MAX_BACKOFF_SECONDS": "9",
        "AGENCY_BANKS_FRESHNESS_HOURS": "48",
        "AGENCY_BANKS_BATCH_SIZE": "50",
        "AGENCY_SOCIAL_INSURANCE_RATE_PER_SECOND": "3",
        "HEARTBEAT_SECONDS": "0.5",
        "BATCH_MAX_SUBJECTS": "500",
    }
    s = Settings.from_env(env)
    assert s.callback_secrets == {"banks": "cb-secret"}
    assert s.agency_secrets == {"banks": "app-key"}
    assert s.heartbeat_seconds == 0.5 and s.batch_max_subjects == 500
    assert s.agency_overrides["social_insurance"] == {"rate_per_second": "3"}
    m = BANKS.manifest.with_overrides(s.agency_overrides["banks"])
    assert m.policy.breaker.half_open_probes == 3
    assert (m.policy.retry.initial_backoff_seconds, m.policy.retry.max_backoff_seconds) == (0.5, 9.0)
    assert m.policy.freshness_hours == 48.0
    assert m.batch is not None and m.batch.max_size == 50
