"""The dispatcher against in-memory stores and a scripted connector: claim -> call -> outcome
flush, retries in-process and back to the queue, the breaker (and its publication to the shared
store), the deadline, batches, and flushes kept while the database is away."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from connectors.sdk.errors import AuthError, RejectedError, TransientError
from connectors.sdk.manifest import BreakerPolicy, Manifest, RetryPolicy
from connectors.sdk.protocol import ConnectorSpec
from connectors.sdk.types import AgencyRequest, AgencyResult, CallbackAnswer, ItemOutcome, Outcome, Pending, Rejected
from enforcement.searches.dispatcher import Dispatcher, DispatcherConfig
from enforcement.searches.policy import BreakerState, CircuitBreaker, RateLimiter
from enforcement.searches.runtime import AgencyRuntime
from enforcement.searches.store.tasks import ClaimedTask
from tests.unit.searches.fakes import FakeAgencyStore, FakeTaskStore, claimed, manifests

Step = Outcome | Exception


class Scripted:
    """A connector answering from a script, one step per call (the last step repeats)."""

    def __init__(self, *steps: Step, batch: Sequence[ItemOutcome] = ()) -> None:
        self.steps = list(steps)
        self.batch = list(batch)
        self.requests: list[AgencyRequest] = []
        self.polls: list[str] = []
        self.batches: list[list[AgencyRequest]] = []

    def _next(self) -> Outcome:
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        return step

    async def check(self) -> None:
        return None

    async def search(self, request: AgencyRequest) -> Outcome:
        self.requests.append(request)
        return self._next()

    async def poll(self, ticket: str) -> Outcome:
        self.polls.append(ticket)
        return self._next()

    async def search_batch(self, requests: Sequence[AgencyRequest]) -> Sequence[ItemOutcome]:
        self.batches.append(list(requests))
        return self.batch

    def parse_callback(self, body: Mapping[str, Any]) -> Sequence[CallbackAnswer]:
        return []


def answer(**raw: Any) -> AgencyResult:
    return AgencyResult(records=(), raw=raw, answered_at=datetime.now(UTC), agency_reference="REF-1")


def runtime(name: str, connector: Scripted, *, attempts: int = 3, min_calls: int = 100) -> AgencyRuntime:
    m: Manifest = manifests(name)[name]
    policy = replace(m.policy, rate_per_second=10_000.0, retry=RetryPolicy(attempts, 0.001, 0.002),
                     breaker=BreakerPolicy(min_calls, 0.5, 30.0, 1))
    m = replace(m, policy=policy)
    return AgencyRuntime(spec=ConnectorSpec(m, lambda _c, _s: connector),  # type: ignore[arg-type,return-value]
                         manifest=m, connector=connector,  # type: ignore[arg-type]
                         breaker=CircuitBreaker(name, policy.breaker), limiter=RateLimiter(policy.rate_per_second))


CONFIG = DispatcherConfig(worker_id="w-1", idle_poll_seconds=0.01, expiry_sweep_seconds=0.05,
                          heartbeat_seconds=0.02, lease_seconds=30.0)


async def run_until(tasks: FakeTaskStore, agencies: FakeAgencyStore, runtimes: Mapping[str, AgencyRuntime],
                    done: Callable[[], bool], *, config: DispatcherConfig = CONFIG) -> Dispatcher:
    dispatcher = Dispatcher(tasks, agencies, runtimes, config)
    running = asyncio.create_task(dispatcher.run())
    try:
        async with asyncio.timeout(5):
            while not done():
                await asyncio.sleep(0.005)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    return dispatcher


def vehicles(task: ClaimedTask, connector: Scripted, **kw: Any) -> tuple[FakeTaskStore, dict[str, AgencyRuntime]]:
    return FakeTaskStore({"vehicles": [task]}), {"vehicles": runtime("vehicles", connector, **kw)}


async def test_a_claimed_task_is_called_once_and_its_answer_flushed_under_this_worker() -> None:
    connector = Scripted(answer(plates=1))
    tasks, runtimes = vehicles(claimed(7, "vehicles"), connector)
    await run_until(tasks, FakeAgencyStore(), runtimes, lambda: bool(tasks.flushes))
    [request] = connector.requests
    assert (request.request_no, request.idempotency_key, request.subject.name) == ("R7-vehicles", "7:vehicles",
                                                                                   "张三")
    [(successes, settlements, worker)] = tasks.flushes
    assert worker == "w-1" and settlements == []
    [s] = successes
    assert (s.task_id, s.raw, s.agency_reference, list(s.records)) == (7, {"plates": 1}, "REF-1", [])


async def test_transient_errors_are_retried_in_process_then_answered() -> None:
    connector = Scripted(TransientError(code="busy"), TransientError(code="busy"), answer(ok=True))
    tasks, runtimes = vehicles(claimed(1, "vehicles"), connector, attempts=3)
    await run_until(tasks, FakeAgencyStore(), runtimes, lambda: bool(tasks.flushes))
    assert len(connector.requests) == 3
    assert [s.task_id for s in tasks.successes] == [1] and tasks.settlements == []


async def test_a_task_still_failing_after_its_attempts_goes_back_to_the_queue_for_later() -> None:
    connector = Scripted(TransientError(code="busy"))
    tasks, runtimes = vehicles(claimed(1, "vehicles", attempts=1), connector, attempts=2)
    await run_until(tasks, FakeAgencyStore(), runtimes, lambda: bool(tasks.flushes))
    assert len(connector.requests) == 2
    [s] = tasks.settlements
    assert (s.outcome, s.error_code) == ("retry", "busy") and s.delay_seconds > 0


async def test_a_retry_after_longer_than_the_lease_allows_goes_back_to_the_queue_at_once() -> None:
    connector = Scripted(TransientError(code="busy", retry_after=7.0))
    tasks, runtimes = vehicles(claimed(1, "vehicles", attempts=1), connector, attempts=3)
    await run_until(tasks, FakeAgencyStore(), runtimes, lambda: bool(tasks.flushes),
                    config=replace(CONFIG, lease_seconds=3.0))
    assert len(connector.requests) == 1  # no in-process wait beyond a third of the lease
    [s] = tasks.settlements
    assert (s.outcome, s.error_code) == ("retry", "busy")
    assert s.delay_seconds >= 7.0  # the agency's Retry-After is honoured


async def test_a_retry_that_would_land_after_the_deadline_ends_the_task_as_expired() -> None:
    connector = Scripted(TransientError(code="busy", retry_after=600.0))
    tasks, runtimes = vehicles(claimed(1, "vehicles", deadline_in=60), connector, attempts=1)
    await run_until(tasks, FakeAgencyStore(), runtimes, lambda: bool(tasks.flushes))
    [s] = tasks.settlements
    assert (s.outcome, s.error_code) == ("expired", "busy")


@pytest.mark.parametrize(("error", "outcome", "code"), [
    (RejectedError("缺少文书号", code="40001"), "rejected", "40001"),
    (AuthError("bad key", code="401"), "failed", "auth"),
])
async def test_a_refusal_or_an_auth_failure_ends_the_task_without_retrying(
    error: Exception, outcome: str, code: str
) -> None:
    connector = Scripted(error)
    tasks, runtimes = vehicles(claimed(1, "vehicles"), connector, attempts=3)
    await run_until(tasks, FakeAgencyStore(), runtimes, lambda: bool(tasks.flushes))
    assert len(connector.requests) == 1
    [s] = tasks.settlements
    assert (s.outcome, s.error_code) == (outcome, code)
    assert runtimes["vehicles"].auth_failed is (outcome == "failed")


async def test_a_task_claimed_past_its_deadline_is_expired_without_calling_the_agency() -> None:
    connector = Scripted(answer())
    tasks, runtimes = vehicles(claimed(1, "vehicles", deadline_in=-1, last_error="busy"), connector)
    await run_until(tasks, FakeAgencyStore(), runtimes, lambda: bool(tasks.flushes))
    assert connector.requests == []
    [s] = tasks.settlements
    assert (s.outcome, s.error_code) == ("expired", "deadline") and "busy" in (s.error_message or "")


async def test_a_pending_answer_waits_with_its_ticket_and_a_held_ticket_is_polled() -> None:
    connector = Scripted(Pending("T-9", poll_after_seconds=4.0))
    tasks, runtimes = vehicles(claimed(1, "vehicles", ticket="T-8"), connector)
    await run_until(tasks, FakeAgencyStore(), runtimes, lambda: bool(tasks.flushes))
    assert connector.polls == ["T-8"] and connector.requests == []
    [s] = tasks.settlements
    assert (s.outcome, s.ticket, s.delay_seconds) == ("waiting", "T-9", 4.0)


async def test_the_breaker_opens_on_failures_stops_the_calls_and_is_published_to_the_shared_store() -> None:
    connector = Scripted(TransientError(code="down"))
    tasks, runtimes = vehicles(claimed(1, "vehicles"), connector, attempts=5, min_calls=2)
    shared = FakeAgencyStore()
    await run_until(tasks, shared, runtimes,
                    lambda: bool(tasks.flushes) and shared.shared.get("vehicles") is not None
                    and shared.shared["vehicles"].state == "open")
    assert len(connector.requests) == 2  # the breaker opened after two failures: no third call
    assert runtimes["vehicles"].breaker.state is BreakerState.OPEN
    [s] = tasks.settlements
    assert (s.outcome, s.error_code) == ("retry", "breaker_open")
    assert s.delay_seconds >= 0.5
    assert shared.shared["vehicles"].opened_by == "w-1" and shared.shared["vehicles"].reason == "down"


async def test_an_open_shared_breaker_is_adopted_and_nothing_is_claimed_for_that_agency() -> None:
    connector = Scripted(answer())
    tasks, runtimes = vehicles(claimed(1, "vehicles"), connector)
    shared = FakeAgencyStore()
    await shared.open_breaker("vehicles", 60.0, "w-2", "down")
    dispatcher = await run_until(tasks, shared, runtimes, lambda: "w-1" in shared.alive)
    await asyncio.sleep(0)
    assert runtimes["vehicles"].breaker.state is BreakerState.OPEN
    assert connector.requests == [] and tasks.flushes == []
    assert len(tasks.due["vehicles"]) == 1  # never claimed
    assert dispatcher.coordinator.live_workers == 1


async def test_a_batch_capable_agency_gets_the_due_subjects_in_one_call_and_each_its_outcome() -> None:
    connector = Scripted(answer(), batch=[answer(n=1), Rejected("查无此人", code="404"), Pending("T-1")])
    due = [claimed(i, "banks") for i in (1, 2, 3)]
    tasks = FakeTaskStore({"banks": due})
    runtimes = {"banks": runtime("banks", connector)}
    await run_until(tasks, FakeAgencyStore(), runtimes,
                    lambda: len(tasks.successes) + len(tasks.settlements) == 3)
    [sent] = connector.batches
    assert [r.idempotency_key for r in sent] == ["1:banks", "2:banks", "3:banks"]
    assert [s.task_id for s in tasks.successes] == [1]
    assert sorted((s.task_id, s.outcome) for s in tasks.settlements) == [(2, "rejected"), (3, "waiting")]


async def test_outcomes_are_kept_and_written_again_while_the_database_is_away() -> None:
    connector = Scripted(answer())
    tasks, runtimes = vehicles(claimed(1, "vehicles"), connector)
    tasks.fail_flushes = 2
    await run_until(tasks, FakeAgencyStore(), runtimes, lambda: bool(tasks.flushes))
    assert [s.task_id for s in tasks.successes] == [1]
    assert tasks.fail_flushes == 0


async def test_a_flush_that_fails_for_a_bug_is_dropped_and_its_lease_released_by_the_sweep() -> None:
    connector = Scripted(answer())
    tasks, runtimes = vehicles(claimed(1, "vehicles"), connector)
    tasks.fail_flushes, tasks.flush_error = 1, ValueError("bug")
    await run_until(tasks, FakeAgencyStore(), runtimes, lambda: bool(tasks.released))
    assert tasks.flushes == []
    assert tasks.released[-1] == ("w-1", [])  # not held any more: the sweep puts it back in the queue



async def test_a_submission_wakes_one_live_dispatcher_a_batch_every_one_another_agency_none() -> None:
    """Every dispatcher hears every NOTIFY on ``agency_tasks``; a submission's (``agencies;search
    id``) is taken by the dispatcher whose rank is the id's hash modulo the live count (issue 19:
    at 4 workers each submission made 4 claim rounds, 3 finding nothing)."""
    shared = FakeAgencyStore()
    a, b, c = (Dispatcher(FakeTaskStore({}), shared, {"vehicles": runtime("vehicles", Scripted(answer()))},
                          replace(CONFIG, worker_id=w)) for w in ("w-1", "w-2", "w-3"))
    for d in (a, b, c):
        await d.coordinator.start()
    for d in (a, b, c):
        await d.coordinator.sync()
    assert sorted(d.coordinator.rank for d in (a, b, c)) == [0, 1, 2]
    assert {d.coordinator.live_workers for d in (a, b, c)} == {3}
    takers = []
    for n in range(300):
        payload = f"vehicles,banks;{UUID(int=n * 7919)}"
        takers.append([d.config.worker_id for d in (a, b, c) if d._ours(payload)])
    assert all(len(t) == 1 for t in takers)  # each submission wakes exactly one
    shares = [sum(t == [w] for t in takers) for w in ("w-1", "w-2", "w-3")]
    assert min(shares) > 60  # and they share them
    assert all(d._ours("vehicles,banks") for d in (a, b, c))  # no key (a batch): every one
    assert all(d._ours("") for d in (a, b, c))  # a reconnect: every one
    assert not any(d._ours(f"hotels;{UUID(int=1)}") for d in (a, b, c))  # none of their agencies
    alone = Dispatcher(FakeTaskStore({}), FakeAgencyStore(), {"vehicles": runtime("vehicles", Scripted(answer()))},
                       CONFIG)
    await alone.coordinator.start()
    assert all(alone._ours(f"vehicles;{UUID(int=n)}") for n in range(20))


class SnapshotTaskStore(FakeTaskStore):
    """A claim that sees the queue as it was when it started (a statement's snapshot) and takes a
    while: tasks committed meanwhile are not claimed by it."""

    def __init__(self, due: dict[str, list[ClaimedTask]]) -> None:
        super().__init__(due)
        self.started = asyncio.Event()
        self.go_on = asyncio.Event()

    async def claim_many(self, wants: Any, worker_id: str, lease_seconds: float, total: int) -> list[ClaimedTask]:
        snapshot = {a: list(q) for a, q in self.due.items()}
        self.started.set()
        await self.go_on.wait()
        if any(snapshot.values()):
            return await super().claim_many(wants, worker_id, lease_seconds, total)
        return []


async def test_a_wake_up_heard_while_a_claim_runs_is_not_lost() -> None:
    """Only one dispatcher is woken for a submission now: if its NOTIFY arrives while a claim whose
    snapshot predates the submission runs, the dispatcher claims again at once, not at the next
    idle poll (30 s here)."""
    connector = Scripted(answer(plates=1))
    tasks = SnapshotTaskStore({"vehicles": []})
    dispatcher = Dispatcher(tasks, FakeAgencyStore(), {"vehicles": runtime("vehicles", connector)},
                            replace(CONFIG, idle_poll_seconds=30.0))
    running = asyncio.create_task(dispatcher.run())
    try:
        async with asyncio.timeout(5):
            await tasks.started.wait()
            tasks.due["vehicles"].append(claimed(7, "vehicles"))  # committed after the claim's snapshot
            dispatcher.wake(f"vehicles;{UUID(int=7)}")
            tasks.go_on.set()
            while not tasks.flushes:
                await asyncio.sleep(0.005)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert [r.request_no for r in connector.requests] == ["R7-vehicles"]


class CountingTaskStore(FakeTaskStore):
    """Counts the batch checks; a ticket written as waiting comes due after its delay, as in SQL."""

    def __init__(self, due: dict[str, list[ClaimedTask]]) -> None:
        super().__init__(due)
        self.checks = 0

    async def oldest_due(self, agency: str, up_to: int = 10_000) -> tuple[float, int]:
        self.checks += 1
        return await super().oldest_due(agency, up_to)

    async def flush(self, successes: Any, settlements: Any, *, worker_id: str | None) -> list[UUID]:
        done = await super().flush(successes, settlements, worker_id=worker_id)
        loop = asyncio.get_running_loop()
        for s in settlements:
            if s.outcome == "waiting":
                task = claimed(s.task_id, "banks", ticket=s.ticket)
                loop.call_later(s.delay_seconds or 0.0, self.due.setdefault("banks", []).append, task)
        return done


async def until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not check():
            await asyncio.sleep(0.005)


async def test_the_banks_checks_are_made_when_they_may_find_something_not_at_every_claim_round() -> None:
    """The banks' two checks (tickets to poll, a batch to send) were two of a claim round's three
    round trips, made at every round (issue 19); now when a subject was submitted for them, when
    the oldest will have waited enough, or at the idle poll."""
    banks = Scripted(answer(), batch=[answer(n=1), answer(n=2)])
    tasks = CountingTaskStore({"banks": [], "vehicles": []})
    runtimes = {"banks": runtime("banks", banks), "vehicles": runtime("vehicles", Scripted(answer()))}
    dispatcher = Dispatcher(tasks, FakeAgencyStore(), runtimes, replace(CONFIG, idle_poll_seconds=30.0))
    running = asyncio.create_task(dispatcher.run())
    try:
        await until(lambda: tasks.checks == 1)  # the first round looks at everything
        assert tasks.claims.count(("banks", "polls")) == 1
        for n in range(10):  # submissions for the vehicles only: the banks are not looked at
            tasks.due["vehicles"].append(claimed(100 + n, "vehicles"))
            dispatcher.wake(f"vehicles;{UUID(int=100 + n)}")
            await until(lambda n=n: len(tasks.successes) == n + 1)
        assert tasks.checks == 1 and tasks.claims.count(("banks", "polls")) == 1
        tasks.due["banks"] += [claimed(1, "banks"), claimed(2, "banks")]
        dispatcher.wake("banks,vehicles")  # a batch of submissions (no key): the banks may be due
        await until(lambda: bool(banks.batches))
        assert tasks.checks >= 2  # (and once more after a batch is sent: more may wait)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_ticket_this_worker_wrote_is_polled_when_due_not_at_the_next_idle_poll() -> None:
    banks = Scripted(answer(n=1), batch=[Pending("T-1", poll_after_seconds=0.1)])
    tasks = CountingTaskStore({"banks": [claimed(1, "banks")]})
    dispatcher = Dispatcher(tasks, FakeAgencyStore(), {"banks": runtime("banks", banks)},
                            replace(CONFIG, idle_poll_seconds=30.0))
    running = asyncio.create_task(dispatcher.run())
    try:
        await until(lambda: banks.polls == ["T-1"])  # due 0.1 s after it was written; idle poll 30 s
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_banks_check_it_cannot_make_does_not_turn_the_idle_wait_into_a_spin() -> None:
    """A ticket due while the banks' breaker is open: the round cannot poll it; the dispatcher
    waits for the idle poll rather than claiming round after round without waiting."""
    tasks = CountingTaskStore({"banks": [], "vehicles": []})
    runtimes = {"banks": runtime("banks", Scripted(answer())), "vehicles": runtime("vehicles", Scripted(answer()))}
    shared = FakeAgencyStore()
    dispatcher = Dispatcher(tasks, shared, runtimes, replace(CONFIG, idle_poll_seconds=0.2))
    running = asyncio.create_task(dispatcher.run())
    try:
        await until(lambda: tasks.checks == 1)
        await shared.open_breaker("banks", 60.0, "w-2", "down")  # adopted at the next heartbeat
        await until(lambda: runtimes["banks"].breaker.state is BreakerState.OPEN)
        dispatcher._polls_at["banks"] = 0.0  # due long ago, not reachable while the breaker is open
        before = len(tasks.claims)
        await asyncio.sleep(0.5)
        assert len(tasks.claims) - before <= 4  # about one round per idle poll, not hundreds
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


def test_the_per_call_debug_line_is_skipped_only_where_the_level_drops_it() -> None:
    import structlog

    from enforcement.kernel.logging import configure_logging
    from enforcement.searches.dispatcher import _debug_enabled

    try:
        configure_logging("WARNING", json_output=True)
        assert not _debug_enabled()
        configure_logging("DEBUG", json_output=True)
        assert _debug_enabled()
        configure_logging("INFO", json_output=True)
        assert not _debug_enabled()
    finally:
        structlog.reset_defaults()
    assert _debug_enabled()  # structlog's defaults write everything
