"""The dispatcher: claim due agency tasks, call the connectors, record what came back.

Any number of dispatchers, in any number of processes, share the queue in PostgreSQL. Each
loop claims, per agency, as many due tasks as that agency's limits allow (SKIP LOCKED, under a
lease), runs the calls concurrently, and hands outcomes to a flusher that writes them in
batches. A dispatcher that dies loses its leases; another one picks the tasks up, and the
idempotency key (``search_id:agency``) keeps the agency from counting the query twice.

Retries happen here and only here: transient errors are retried in-process with exponential
backoff and jitter (``Retry-After`` honoured) up to the agency's ``max_attempts``, then the task
goes back to the queue with a later due time (the same exponential schedule, continued and
capped at ``max_backoff_seconds``), until its deadline, after which it ends as expired.

Agency limits hold across every process: the calls in flight per agency are counted where
tasks are claimed (in SQL, under a per-agency lock; a batch call counts once), the request
rate is shared among the live dispatchers, and the circuit breaker is shared through
PostgreSQL (``enforcement.searches.coordination``). Batch-capable agencies get the due
subjects grouped: a batch goes out when ``batch.max_size`` subjects wait, or when the oldest
has waited ``batch.max_wait_seconds``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import math
import random
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_not_exception_type,
)

from connectors.sdk.errors import AuthError, ConnectorError, RejectedError, TransientError
from connectors.sdk.manifest import RetryPolicy
from connectors.sdk.types import AgencyRequest, AgencyResult, ItemOutcome, Pending, Rejected
from enforcement.domain.errors import DomainError
from enforcement.domain.subjects import Subject
from enforcement.kernel import metrics
from enforcement.kernel.db_errors import is_database_unavailable
from enforcement.kernel.waits import wait_set
from enforcement.searches.coordination import Coordinator
from enforcement.searches.errors import BreakerOpen
from enforcement.searches.runtime import AgencyRuntime
from enforcement.searches.store.agencies import AgencyStoreProtocol
from enforcement.searches.store.tasks import ClaimedTask, ClaimWant, Settlement, Success, TaskStoreProtocol

log = structlog.get_logger(__name__)
T = TypeVar("T")


# The metrics' labelled children, looked up once per label set: ``labels()`` validates and locks
# on every call (about 10 Python calls each, five per agency call; decision 0706).
@functools.cache
def _finished(agency: str, status: str) -> Any:
    return metrics.TASKS_FINISHED.labels(agency=agency, status=status)


@functools.cache
def _in_flight(agency: str) -> Any:
    return metrics.IN_FLIGHT.labels(agency=agency)


@functools.cache
def _calls(agency: str, operation: str, outcome: str) -> Any:
    return metrics.AGENCY_CALLS.labels(agency=agency, operation=operation, outcome=outcome)


@functools.cache
def _duration(agency: str, operation: str) -> Any:
    return metrics.AGENCY_CALL_DURATION.labels(agency=agency, operation=operation)


@functools.cache
def _retries(agency: str) -> Any:
    return metrics.AGENCY_RETRIES.labels(agency=agency)


_debug_on: dict[Any, bool] = {}


def _debug_enabled() -> bool:
    """Whether a debug line would be written under the logging configuration in force, found once
    per configuration (its filtering wrapper class) by logging a probe through it. The module's
    lazy logger binds anew on every call (~11 Python calls, issue 19) even for the per-call debug
    line the usual WARNING/INFO level then drops."""
    wrapper = structlog.get_config()["wrapper_class"]
    on = _debug_on.get(wrapper)
    if on is None:
        seen: list[str] = []

        def keep(_logger: Any, _method: str, event: Any) -> Any:
            seen.append(event)
            raise structlog.DropEvent

        structlog.wrap_logger(None, wrapper_class=wrapper, processors=[keep]).debug("probe")
        on = _debug_on[wrapper] = bool(seen)
    return on


@dataclass(frozen=True, slots=True)
class DispatcherConfig:
    worker_id: str
    claim_batch_size: int = 50
    lease_seconds: float = 60.0
    idle_poll_seconds: float = 1.0
    max_in_flight: int = 64
    flush_max: int = 200
    flush_linger_seconds: float = 0.0
    flush_concurrency: int = 2
    expiry_sweep_seconds: float = 5.0
    heartbeat_seconds: float = 1.0


def retry_delay(
    policy: RetryPolicy, attempt: int, retry_after: float | None = None,
    *, jitter: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (from 1): exponential from
    ``initial_backoff_seconds``, capped at ``max_backoff_seconds``, jittered between half and
    all of it; never less than the agency's ``Retry-After``."""
    exponent = min(max(attempt - 1, 0), 30)
    base = min(policy.max_backoff_seconds, policy.initial_backoff_seconds * 2**exponent)
    delay = float(base * (0.5 + 0.5 * jitter()))
    return max(delay, retry_after) if retry_after is not None else delay


def request_from_task(task: ClaimedTask) -> AgencyRequest:
    return AgencyRequest(
        request_no=f"{task.request_no}-{task.agency}",
        idempotency_key=task.idempotency_key,
        case_number=task.case_number,
        court_code=task.court_code,
        judge_name=task.judge_name,
        judge_officer_id=task.judge_officer_id,
        document_number=task.document_number,
        subject=Subject(task.subject_kind, task.subject_id_number, task.subject_name),  # type: ignore[arg-type]
        purpose=task.purpose,
        date_from=task.date_from,
        date_to=task.date_to,
    )


def success_of(task_id: int, result: AgencyResult, created_at: datetime | None = None) -> Success:
    """An agency's answer as the store records it (raw, records with their natural keys); ``created_at``
    is the task's (its partition: migration 0025)."""
    return Success(
        task_id=task_id,
        raw=dict(result.raw),
        answered_at=result.answered_at,
        agency_reference=result.agency_reference,
        records=[(r.kind, r.natural_key(), r.to_dict()) for r in result.records],
        created_at=created_at,
    )


def expired(task: ClaimedTask) -> Settlement:
    """A task claimed after its deadline ends there; its last error is the reason shown."""
    last = f" (last error / 最近一次错误: {task.last_error})" if task.last_error else ""
    return Settlement(task.id, "expired", error_code="deadline",
                      error_message=f"no answer before the deadline / 截止期限内未获答复{last}",
                      created_at=task.created_at)


class Dispatcher:
    def __init__(
        self,
        store: TaskStoreProtocol,
        agency_store: AgencyStoreProtocol,
        runtimes: Mapping[str, AgencyRuntime],
        config: DispatcherConfig,
    ) -> None:
        self.store = store
        self.runtimes = runtimes
        self.config = config
        self.coordinator = Coordinator(
            agency_store, runtimes, config.worker_id,
            heartbeat_seconds=config.heartbeat_seconds,
        )
        self._wake = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._successes: list[Success] = []
        self._settlements: list[Settlement] = []
        self._buffered = asyncio.Event()
        self._calls: set[asyncio.Task[None]] = set()
        self._flushes: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self._stopping = False
        self._more = False
        self._held: set[int] = set()  # tasks this worker leased and has not flushed yet
        # Batch-capable agencies (the banks): when their two checks of a claim round are worth a
        # round trip (issue 19: they were 1.7 of a search's 2.5 claim statements at 4 workers).
        # Polls: at this worker's own tickets' due times, else every idle poll (others' tickets,
        # a dead worker's). The batch: when the oldest subject will have waited enough, when
        # enough were submitted since (counted from every NOTIFY heard), else every idle poll.
        self._polls_at: dict[str, float] = {}
        self._batch_at: dict[str, float] = {}
        self._batch_room: dict[str, int] = {}
        self._ticket_agency: dict[int, str] = {}  # held tasks of batch-capable agencies

    # -- wake-ups ---------------------------------------------------------------------------

    def wake(self, payload: str = "") -> None:
        """Claim now (a NOTIFY on ``agency_tasks``: new tasks are due), if the wake-up is ours.

        Every dispatcher hears every NOTIFY; when each claimed for each submission, at 4 workers
        3 of 4 claims found nothing (issue 19). A submission's payload, ``agencies;search id``,
        wakes one dispatcher: the one whose rank among the live ones (``Coordinator.rank``, by
        worker id, renewed every heartbeat) is the search id's CRC-32 modulo their number. A
        payload naming none of this worker's agencies wakes nothing; one without a key (a batch, a
        reconnect, a retry) wakes every dispatcher. A wake-up nobody takes (views of who is alive
        differing for a heartbeat, a killed worker counted until it ages out) is claimed at the
        next idle poll or freed slot of any worker: latency, never a lost task."""
        self._count_subjects(payload)
        if self._ours(payload):
            self._wake.set()

    def _count_subjects(self, payload: str) -> None:
        """Every NOTIFY heard, ours or not, may bring a batch-capable agency's batch closer to
        full: one subject per submission naming it; a batch or a reconnect, any number."""
        agencies, _, key = payload.partition(";")
        named = agencies.split(",") if agencies else list(self._batch_room)
        for name in named:
            if name in self._batch_room:
                self._batch_room[name] = self._batch_room[name] - 1 if key else 0
        if not agencies:
            self._polls_at.clear()  # a reconnect: notifications may have been lost, look at all

    def _ours(self, payload: str) -> bool:
        agencies, _, key = payload.partition(";")
        if agencies and not any(a in self.runtimes for a in agencies.split(",")):
            return False
        live = self.coordinator.live_workers
        if not key or live <= 1:
            return True
        return zlib.crc32(key.encode()) % live == self.coordinator.rank

    # -- main loops ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Claim and dispatch until cancelled; then let calls in flight finish and flush."""
        await self.coordinator.start()
        flusher = asyncio.create_task(self._flush_loop(), name="dispatcher-flush")
        sweeper = asyncio.create_task(self._expiry_loop(), name="dispatcher-expiry")
        coordinator = asyncio.create_task(self.coordinator.run(), name="dispatcher-coordination")
        try:
            while True:
                # Cleared before the claim, not after: a NOTIFY heard while a claim runs may be for
                # tasks committed after its snapshot, and its wake-up must not be lost (now that
                # one dispatcher, not all, is woken for a submission).
                self._wake.clear()
                claimed = await self._claim_round()
                if claimed and self._in_flight >= self.config.max_in_flight:
                    self._slot_freed.clear()
                    await wait_set(self._slot_freed, self.config.idle_poll_seconds)
                elif claimed == 0 or not self._more:
                    # Nothing, or everything due (no agency's claim was full): wait to be woken,
                    # not claim again at once only to find nothing (issue 19).
                    self._slot_freed.clear()
                    waits = [asyncio.ensure_future(self._wake.wait()),
                             asyncio.ensure_future(self._slot_freed.wait())]
                    try:
                        await asyncio.wait(waits, timeout=self._idle_timeout(),
                                           return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for w in waits:
                            w.cancel()
        finally:
            self._stopping = True
            if self._calls:
                await asyncio.wait(self._calls, timeout=self.config.lease_seconds / 2)
            sweeper.cancel()
            flusher.cancel()
            coordinator.cancel()
            for helper in (flusher, sweeper, coordinator):
                with contextlib.suppress(asyncio.CancelledError):
                    await helper
            await self._flush_now()
            await self.coordinator.stop()

    def _idle_timeout(self) -> float:
        """The idle poll, or less when a batch-capable agency's poll or batch is due sooner. A time
        already past is not waited for (a round that could not reach its check, e.g. the agency's
        breaker open, must not turn the idle wait into a spin): the next round takes it."""
        now = time.monotonic()
        soonest = min((t for t in (*self._polls_at.values(), *self._batch_at.values()) if t > now),
                      default=math.inf)
        return min(self.config.idle_poll_seconds, soonest - now)

    async def _claim_round(self) -> int:
        """Claim for every agency: the agencies called one task at a time all together in one
        statement (one round trip, and their calls start together), then each batch-capable one."""
        total = 0
        self._more = False  # set when a claim took all it wanted: more may be due at once
        units: list[tuple[str, Callable[[int], Awaitable[int]]]] = [("*", self._claim_singles)]
        units += [(rt.name, functools.partial(self._claim_agency, rt))
                  for rt in self.runtimes.values() if rt.manifest.batch is not None]
        for name, claim in units:
            free = self.config.max_in_flight - self._in_flight
            if free <= 0:
                self._more = True
                break
            try:
                total += await claim(free)
            except Exception as exc:
                if is_database_unavailable(exc):
                    log.warning("claim_failed", agency=name, error=type(exc).__name__, database_unavailable=True)
                else:  # not the database being away: a bug, say so loudly
                    log.error("claim_failed", agency=name, error=type(exc).__name__, exc_info=True)
                await asyncio.sleep(self.config.idle_poll_seconds)
                return total
        return total

    async def _claim_singles(self, free: int) -> int:
        """Claim for the agencies without batches, within each one's limits and ``free`` in all."""
        wants = []
        for rt in self.runtimes.values():
            if rt.manifest.batch is not None:
                continue
            policy = rt.manifest.policy
            want = rt.breaker.capacity(min(free, self.config.claim_batch_size, policy.max_in_flight))
            if want > 0:
                wants.append(ClaimWant(rt.name, want, policy.max_in_flight, policy.breaker.half_open_probes))
        if not wants:
            return 0
        tasks = await self.store.claim_many(wants, self.config.worker_id, self.config.lease_seconds, free)
        got = collections.Counter(t.agency for t in tasks)
        if len(tasks) >= free or any(got[w.agency] >= w.limit for w in wants):
            self._more = True
        self._held.update(t.id for t in tasks)
        for task in tasks:
            self._spawn(self._run_one(self.runtimes[task.agency], task))
        return len(tasks)

    async def _claim_agency(self, rt: AgencyRuntime, free: int) -> int:
        """Claim what this agency's limits allow now and start the calls; returns tasks claimed."""
        policy = rt.manifest.policy
        want = rt.breaker.capacity(min(free, self.config.claim_batch_size, policy.max_in_flight))
        if want <= 0:
            return 0
        probes = policy.breaker.half_open_probes
        lease = self.config.lease_seconds
        worker = self.config.worker_id
        batch = rt.manifest.batch
        if batch is None:
            tasks = await self.store.claim(rt.name, worker, want, lease, policy.max_in_flight, half_open_calls=probes)
            self._more = self._more or len(tasks) >= want
            self._held.update(t.id for t in tasks)
            for task in tasks:
                self._spawn(self._run_one(rt, task))
            return len(tasks)
        # Batch-capable: held tickets are polled one call each; subjects not yet sent go out
        # together, one call for the whole group, once enough wait or the oldest waited enough.
        # Each check is a round trip, made only when it may find something (see __init__).
        polls: list[ClaimedTask] = []
        now = time.monotonic()
        if now >= self._polls_at.get(rt.name, -math.inf):
            polls = await self.store.claim(rt.name, worker, want, lease, policy.max_in_flight,
                                           which="polls", half_open_calls=probes)
            # all it wanted: more may be due at once; else at this worker's next ticket or idle poll
            self._polls_at[rt.name] = now if len(polls) >= want else now + self.config.idle_poll_seconds
            self._more = self._more or len(polls) >= want
            self._hold(rt, polls)
            for task in polls:
                self._spawn(self._run_one(rt, task))
        if want - len(polls) <= 0:
            return len(polls)
        if now < self._batch_at.get(rt.name, -math.inf) and self._batch_room.get(rt.name, 0) > 0:
            return len(polls)
        age, waiting = await self.store.oldest_due(rt.name, batch.max_size)
        if not (waiting >= batch.max_size or (waiting > 0 and age >= batch.max_wait_seconds)):
            wait = min(batch.max_wait_seconds - age, self.config.idle_poll_seconds) if waiting \
                else self.config.idle_poll_seconds
            self._batch_at[rt.name] = now + max(wait, 0.0)
            self._batch_room[rt.name] = batch.max_size - waiting
            return len(polls)
        self._batch_at.pop(rt.name, None)  # sent one: look again next round (more may wait)
        self._batch_room.pop(rt.name, None)
        fresh = await self.store.claim(rt.name, worker, batch.max_size, lease, policy.max_in_flight,
                                       which="fresh", call_group=uuid.uuid4(), half_open_calls=probes)
        if fresh:
            self._more = True  # another batch may wait
            self._hold(rt, fresh)
            self._spawn(self._run_batch(rt, fresh))
        return len(polls) + len(fresh)

    def _hold(self, rt: AgencyRuntime, tasks: Sequence[ClaimedTask]) -> None:
        self._held.update(t.id for t in tasks)
        self._ticket_agency.update((t.id, rt.name) for t in tasks)

    def _spawn(self, coro: Awaitable[None]) -> None:
        """Run one agency call (a batch is one call) in the background."""
        self._in_flight += 1

        async def wrapped() -> None:
            try:
                await coro
            finally:
                self._in_flight -= 1
                self._slot_freed.set()

        task = asyncio.create_task(wrapped())
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    # -- one task ----------------------------------------------------------------------------

    async def _run_one(self, rt: AgencyRuntime, task: ClaimedTask) -> None:
        if task.deadline_at <= datetime.now(UTC):
            self._settle(expired(task))
            return
        operation = "poll" if task.ticket else "search"
        try:
            if task.ticket:
                ticket = task.ticket
                outcome = await self._call(rt, operation, lambda: rt.connector.poll(ticket))
            else:
                request = request_from_task(task)
                outcome = await self._call(rt, operation, lambda: rt.connector.search(request))
        except ConnectorError as exc:
            self._settle(self._failure(rt, task, exc))
            return
        except Exception as exc:  # a connector bug must not kill the loop or lose the task
            log.error("connector_crashed", agency=rt.name, error=type(exc).__name__, exc_info=True)
            self._settle(self._failure(rt, task, TransientError(f"connector error: {type(exc).__name__}")))
            return
        self._record_outcome(rt, task, outcome)

    async def _run_batch(self, rt: AgencyRuntime, tasks: Sequence[ClaimedTask]) -> None:
        now = datetime.now(UTC)
        live = []
        for t in tasks:  # (not ``t not in live``: a dataclass comparison per pair, n² a batch)
            if t.deadline_at > now:
                live.append(t)
            else:
                self._settle(expired(t))
        if not live:
            return
        requests = [request_from_task(t) for t in live]
        try:
            outcomes = await self._call(rt, "batch", lambda: rt.connector.search_batch(requests))
        except ConnectorError as exc:
            for t in live:
                self._settle(self._failure(rt, t, exc))
            return
        except Exception as exc:
            log.error("connector_crashed", agency=rt.name, error=type(exc).__name__, exc_info=True)
            for t in live:
                self._settle(self._failure(rt, t, TransientError(f"connector error: {type(exc).__name__}")))
            return
        if len(outcomes) != len(live):
            log.error("batch_answer_mismatch", agency=rt.name, sent=len(live), got=len(outcomes))
            for t in live:
                self._settle(self._failure(rt, t, TransientError("batch answer count mismatch")))
            return
        for t, outcome in zip(live, outcomes, strict=True):
            self._record_outcome(rt, t, outcome)

    def _record_outcome(self, rt: AgencyRuntime, task: ClaimedTask, outcome: ItemOutcome) -> None:
        task_id = task.id
        if isinstance(outcome, Pending):
            self._settle(Settlement(task_id, "waiting", ticket=outcome.ticket,
                                    delay_seconds=outcome.poll_after_seconds, created_at=task.created_at))
        elif isinstance(outcome, Rejected):  # one refused item of a batch
            _finished(rt.name, "rejected").inc()
            self._settle(Settlement(task_id, "rejected", error_code=outcome.code,
                                    error_message=outcome.reason, created_at=task.created_at))
        else:
            self._succeed(success_of(task_id, outcome, task.created_at))
            _finished(rt.name, "succeeded").inc()

    def _failure(self, rt: AgencyRuntime, task: ClaimedTask, exc: ConnectorError) -> Settlement:
        if isinstance(exc, RejectedError):
            _finished(rt.name, "rejected").inc()
            return Settlement(task.id, "rejected", error_code=exc.code, error_message=exc.message,
                              created_at=task.created_at)
        if isinstance(exc, AuthError):
            _finished(rt.name, "failed").inc()
            if not rt.auth_failed:
                log.error("agency_auth_failed", agency=rt.name, code=exc.code)
            rt.auth_failed = True
            return Settlement(task.id, "failed", error_code="auth", error_message=exc.message,
                              created_at=task.created_at)
        # Transient: back to the queue, later, unless the deadline has passed by then. The
        # in-process attempts of this claim used the first steps of the exponential schedule;
        # the requeue takes the next one.
        if isinstance(exc, BreakerOpen):
            delay = max(rt.breaker.retry_in(), 0.5)
        else:
            retry = rt.manifest.policy.retry
            retry_after = exc.retry_after if isinstance(exc, TransientError) else None
            delay = retry_delay(retry, task.attempts * retry.max_attempts, retry_after)
        if (task.deadline_at - datetime.now(UTC)).total_seconds() <= delay:
            _finished(rt.name, "expired").inc()
            return Settlement(task.id, "expired", error_code=exc.code,
                              error_message=f"gave up at the deadline: {exc.message} / 截止期限已到",
                              created_at=task.created_at)
        return Settlement(task.id, "retry", delay_seconds=delay, error_code=exc.code, error_message=exc.message,
                          created_at=task.created_at)

    async def _call(self, rt: AgencyRuntime, operation: str, fn: Callable[[], Awaitable[T]]) -> T:
        """One logical call: breaker-guarded, rate-limited, retried in-process on transient
        errors while the claim's lease allows (a long ``Retry-After`` goes back to the queue).

        The first attempt runs bare: most calls are answered, and tenacity's retry objects, built
        for every call, were about 70 Python calls of ~260 per agency call (decision 0706). Only a
        transient failure builds the retrying, which takes that failure as its attempt 1."""
        try:
            return await self._attempt(rt, operation, fn)
        except BreakerOpen:
            raise
        except TransientError as first:
            return await self._retried(rt, operation, fn, first)

    async def _retried(self, rt: AgencyRuntime, operation: str, fn: Callable[[], Awaitable[T]],
                       first: TransientError) -> T:
        """tenacity's schedule after a failed first attempt: wait ``retry_delay(n)`` after failed
        attempt n; stop at ``max_attempts`` or when the time since the first retry's start plus
        the coming wait passes a third of the lease; a ``BreakerOpen`` is not retried."""
        policy = rt.manifest.policy
        budget = self.config.lease_seconds / 3
        failed_first: TransientError | None = first

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            retry_after = exc.retry_after if isinstance(exc, TransientError) else None
            return retry_delay(policy.retry, state.attempt_number, retry_after)

        def stop(state: RetryCallState) -> bool:
            elapsed = (state.seconds_since_start or 0.0) + (state.upcoming_sleep or 0.0)
            return state.attempt_number >= policy.retry.max_attempts or elapsed > budget

        async for attempt in AsyncRetrying(
            stop=stop,
            wait=wait,
            retry=retry_if_exception_type(TransientError) & retry_if_not_exception_type(BreakerOpen),
            reraise=True,
            before_sleep=lambda _s: _retries(rt.name).inc(),
        ):
            with attempt:
                if failed_first is not None:  # attempt 1 is the bare attempt that failed
                    error, failed_first = failed_first, None
                    raise error
                return await self._attempt(rt, operation, fn)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _attempt(self, rt: AgencyRuntime, operation: str, fn: Callable[[], Awaitable[T]]) -> T:
        breaker = rt.breaker
        if not breaker.allows():
            raise BreakerOpen(code="breaker_open")
        if not rt.limiter.try_acquire():  # a token at once (nothing else ran meanwhile), or wait
            await rt.limiter.acquire()
            if not breaker.allows():  # it opened while we waited for a token
                raise BreakerOpen(code="breaker_open")
        breaker.on_start()
        rt.in_flight += 1
        name = rt.name
        in_flight = _in_flight(name)
        in_flight.inc()
        started = time.perf_counter()
        outcome_label = "result"
        ok = False
        try:
            result = await fn()
            if isinstance(result, Pending):
                outcome_label = "pending"
            elif isinstance(result, list | tuple):
                outcome_label = "batch"
            ok = True
            breaker.record(True)
            rt.auth_failed = False
            return result
        except ConnectorError as exc:
            outcome_label = exc.kind
            ok = isinstance(exc, RejectedError)  # the agency answered: it is up
            rt.last_error = exc.code
            breaker.record(ok)
            raise
        except DomainError as exc:
            outcome_label = "rejected"
            ok = True
            breaker.record(True)
            raise RejectedError(exc.message_en, code=exc.code) from exc
        except Exception:
            rt.last_error = "connector_error"
            breaker.record(False)
            raise
        finally:
            elapsed = time.perf_counter() - started
            rt.in_flight -= 1
            in_flight.dec()
            rt.observe_call(elapsed, ok)
            _calls(name, operation, outcome_label).inc()
            _duration(name, operation).observe(elapsed)
            if _debug_enabled():
                log.debug("agency_call_finished", agency=name, operation=operation,
                          outcome=outcome_label, duration=round(elapsed, 4))

    # -- outcomes and flushing ---------------------------------------------------------------

    def _succeed(self, s: Success) -> None:
        self._successes.append(s)
        self._buffered.set()

    def _settle(self, s: Settlement) -> None:
        self._settlements.append(s)
        self._buffered.set()

    async def _flush_loop(self) -> None:
        """Write outcomes as they come: a flush starts as soon as there is something to write and
        fewer than ``flush_concurrency`` are under way; what arrives meanwhile waits for the next
        one, so batches grow with the load and shrink to one outcome when the service is quiet."""
        slots = asyncio.Semaphore(self.config.flush_concurrency)
        while True:
            await self._buffered.wait()
            await slots.acquire()
            pending = len(self._successes) + len(self._settlements)
            if self.config.flush_linger_seconds and pending < self.config.flush_max:
                await asyncio.sleep(self.config.flush_linger_seconds)
            batch = self._take()
            if batch is None:
                slots.release()
                continue
            flush = asyncio.create_task(self._write(*batch))
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)
            flush.add_done_callback(lambda _f: slots.release())

    def _take(self) -> tuple[list[Success], list[Settlement]] | None:
        self._buffered.clear()
        successes, self._successes = self._successes, []
        settlements, self._settlements = self._settlements, []
        if not successes and not settlements:
            return None
        return successes, settlements

    async def _flush_now(self) -> None:
        """Write what is buffered now, after the flushes under way (shutdown)."""
        if self._flushes:
            await asyncio.wait(set(self._flushes))
        batch = self._take()
        if batch is not None:
            await self._write(*batch)

    async def _write(self, successes: list[Success], settlements: list[Settlement]) -> None:
        delay = 0.2
        while True:
            try:
                completed = await self.store.flush(successes, settlements, worker_id=self.config.worker_id)
                break
            except Exception as exc:
                if not is_database_unavailable(exc):
                    # Not the database being away: a bug. The tasks stay leased and are taken up
                    # again when the lease ends; the agency does not count the query twice.
                    log.error("flush_failed", error=type(exc).__name__, exc_info=True,
                              dropped=len(successes) + len(settlements))
                    self._forget(successes, settlements)  # released by the next sweep
                    return
                if self._stopping and delay > 2:
                    log.warning("flush_abandoned_at_shutdown", outcomes=len(successes) + len(settlements))
                    return
                # The database is away: keep the outcomes and try again; the leases protect us.
                log.warning("flush_retrying", error=type(exc).__name__, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        # A batch-capable agency's ticket to poll later (written now, due after its delay): this
        # worker looks for its polls then, not at the next idle poll.
        now = time.monotonic()
        for s in settlements:
            agency = self._ticket_agency.get(s.task_id)
            if agency is not None and s.outcome in ("waiting", "retry"):
                self._polls_at[agency] = min(self._polls_at.get(agency, math.inf), now + (s.delay_seconds or 0.0))
        self._forget(successes, settlements)
        metrics.FLUSH_SIZE.observe(len(successes) + len(settlements))
        if completed:
            metrics.SEARCHES_COMPLETED.inc(len(completed))
        if any(s.outcome == "retry" or s.outcome == "waiting" for s in settlements):
            self._wake.set()

    def _forget(self, successes: Sequence[Success], settlements: Sequence[Settlement]) -> None:
        for task_id in [s.task_id for s in successes] + [s.task_id for s in settlements]:
            self._held.discard(task_id)
            self._ticket_agency.pop(task_id, None)

    async def _expiry_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.expiry_sweep_seconds)
            try:
                done = await self.store.expire_overdue()
                if done:
                    metrics.SEARCHES_COMPLETED.inc(len(done))
                # Leases this worker holds in the database but not in memory: a claim or an
                # outcome the database lost (a crash with asynchronous commit, a failover to a
                # replica that was behind), or an outcome that could not be written. Due again
                # now, not when the lease lapses.
                released = await self.store.release_forgotten(
                    self.config.worker_id, sorted(self._held), self.config.expiry_sweep_seconds
                )
                if released:
                    log.warning("forgotten_leases_released", tasks=released)
            except Exception as exc:
                log.warning("expiry_sweep_failed", error=type(exc).__name__)


__all__ = ["Dispatcher", "DispatcherConfig", "request_from_task", "retry_delay", "success_of"]
