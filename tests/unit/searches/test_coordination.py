"""The coordinator against an in-memory shared store (one FakeAgencyStore stands for the shared
database, two coordinators for two worker processes): the rate shared among live workers, the
breaker transitions published once and adopted by the others, a clean stop leaving the count."""

from __future__ import annotations

from dataclasses import replace

from connectors.sdk.manifest import BreakerPolicy
from connectors.sdk.protocol import ConnectorSpec
from enforcement.searches.coordination import Coordinator
from enforcement.searches.policy import BreakerState, CircuitBreaker, RateLimiter
from enforcement.searches.runtime import AgencyRuntime
from tests.unit.searches.fakes import FakeAgencyStore, manifests


def runtimes(rate: float = 40.0) -> dict[str, AgencyRuntime]:
    m = manifests("vehicles")["vehicles"]
    m = replace(m, policy=replace(m.policy, rate_per_second=rate, breaker=BreakerPolicy(2, 0.5, 30.0, 1)))
    return {"vehicles": AgencyRuntime(spec=ConnectorSpec(m, None),  # type: ignore[arg-type]
                                      manifest=m, connector=None,  # type: ignore[arg-type]
                                      breaker=CircuitBreaker("vehicles", m.policy.breaker),
                                      limiter=RateLimiter(rate))}


async def test_the_agency_rate_is_shared_among_the_live_workers() -> None:
    shared = FakeAgencyStore()
    one, two = runtimes(), runtimes()
    a = Coordinator(shared, one, "w-1")
    b = Coordinator(shared, two, "w-2")
    await a.start()
    assert one["vehicles"].limiter.rate == 40.0
    await b.start()
    await a.sync()
    assert (a.live_workers, b.live_workers) == (2, 2)
    assert one["vehicles"].limiter.rate == two["vehicles"].limiter.rate == 20.0
    await b.stop()
    await a.sync()
    assert a.live_workers == 1 and one["vehicles"].limiter.rate == 40.0
    assert set(shared.stats) == {"w-1", "w-2"}  # each wrote its recent calls


async def test_a_breaker_opened_by_one_worker_is_published_once_and_adopted_by_the_other() -> None:
    shared = FakeAgencyStore()
    one, two = runtimes(), runtimes()
    a, b = Coordinator(shared, one, "w-1"), Coordinator(shared, two, "w-2")
    await a.start()
    await b.start()
    one["vehicles"].last_error = "down"
    for _ in range(2):
        one["vehicles"].breaker.record(False)
    assert one["vehicles"].breaker.pending == [(BreakerState.CLOSED, BreakerState.OPEN)]
    await a.sync()
    assert one["vehicles"].breaker.pending == []
    row = shared.shared["vehicles"]
    assert (row.state, row.opened_by, row.reason) == ("open", "w-1", "down")
    assert two["vehicles"].breaker.state is BreakerState.CLOSED
    await b.sync()
    assert two["vehicles"].breaker.state is BreakerState.OPEN
    assert two["vehicles"].breaker.pending == []  # adopted, not re-published


async def test_a_transition_not_yet_published_is_not_overwritten_by_the_shared_state() -> None:
    shared = FakeAgencyStore()
    rts = runtimes()
    c = Coordinator(shared, rts, "w-1")
    await shared.ensure_breakers(["vehicles"])
    for _ in range(2):
        rts["vehicles"].breaker.record(False)
    await c.adopt()  # the shared row still says closed; ours is waiting to go out
    assert rts["vehicles"].breaker.state is BreakerState.OPEN


async def test_a_recovery_closes_the_shared_breaker() -> None:
    shared = FakeAgencyStore()
    rts = runtimes()
    c = Coordinator(shared, rts, "w-1")
    await c.start()
    await shared.open_breaker("vehicles", 30.0, "w-2", "down")
    rts["vehicles"].breaker.adopt(BreakerState.HALF_OPEN)
    rts["vehicles"].breaker.on_start()
    rts["vehicles"].breaker.record(True)
    assert rts["vehicles"].breaker.pending == [(BreakerState.HALF_OPEN, BreakerState.CLOSED)]
    await c.publish()
    assert shared.shared["vehicles"].state == "closed"


async def test_coordination_survives_the_database_being_away() -> None:
    class Away(FakeAgencyStore):
        async def beat(self, worker_id: str, liveness_seconds: float) -> int:
            raise ConnectionRefusedError("away")

    c = Coordinator(Away(), runtimes(), "w-1")
    await c.start()  # reported, not raised
    assert c._failing
