"""What workers share through PostgreSQL about each agency: the calls in flight (a batch counts
once) under concurrent claimers, the shared breaker gating claims, breaker transitions decided
once, heartbeats, callback nonces, and the reason an expired task shows."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg

from enforcement.searches.store.agencies import AgencyStore, Liveness
from enforcement.searches.store.tasks import Settlement, Success, TaskStore
from tests.integration.test_task_queue import make_searches


async def _running_calls(pool: asyncpg.Pool, agency: str) -> int:
    n: int = await pool.fetchval(
        """SELECT count(DISTINCT coalesce(call_group::text, id::text)) FROM agency_task
           WHERE agency = $1 AND status = 'running' AND lease_expires_at > now()""", agency)
    return n


async def test_the_agency_wide_limit_of_calls_in_flight_holds_under_concurrent_claimers(pool: asyncpg.Pool) -> None:
    await make_searches(pool, 60, agencies=["vehicles"])
    store = TaskStore(pool)
    peak = 0
    done = 0

    async def worker(name: str) -> None:
        nonlocal peak, done
        while done < 60:
            tasks = await store.claim("vehicles", name, 2, 60, 3)
            if not tasks:
                await asyncio.sleep(0.002)
                continue
            peak = max(peak, await _running_calls(pool, "vehicles"))
            await asyncio.sleep(0.005)
            await store.flush([], [Settlement(t.id, "rejected", error_code="x") for t in tasks], worker_id=name)
            done += len(tasks)

    await asyncio.wait_for(asyncio.gather(*(worker(f"w{i}") for i in range(6))), timeout=30)
    assert done == 60
    assert peak == 3, f"the agency had {peak} calls in flight; its limit is 3"


async def test_a_batch_is_one_call_in_flight_and_polls_are_one_each(pool: asyncpg.Pool) -> None:
    await make_searches(pool, 30, agencies=["banks"])
    store = TaskStore(pool)
    batch = await store.claim("banks", "w1", 25, 60, 2, which="fresh", call_group=uuid.uuid4())
    assert len(batch) == 25 and all(t.ticket is None for t in batch)
    assert await _running_calls(pool, "banks") == 1
    second = await store.claim("banks", "w2", 25, 60, 2, which="fresh", call_group=uuid.uuid4())
    assert len(second) == 5  # a second call fits within the limit of 2
    assert await store.claim("banks", "w3", 25, 60, 2, which="fresh", call_group=uuid.uuid4()) == []
    # Tickets back for the first batch; their polls are one call each.
    await store.flush([], [Settlement(t.id, "waiting", ticket=f"T{t.id}") for t in batch], worker_id="w1")
    polls = await store.claim("banks", "w1", 10, 60, 4, which="polls")
    assert len(polls) == 3 and all(t.ticket for t in polls)  # 4 calls at most: the batch of 5 holds one
    assert await store.claim("banks", "w1", 10, 60, 10, which="fresh") == []  # no fresh subject left


async def test_claims_wait_while_the_shared_breaker_is_open_and_probe_when_half_open(pool: asyncpg.Pool) -> None:
    await make_searches(pool, 10, agencies=["hotels"])
    tasks, agencies = TaskStore(pool), AgencyStore(pool)
    await agencies.ensure_breakers(["hotels"])
    previous, changed = await agencies.open_breaker("hotels", 30, "w1", "http_503")
    assert (previous, changed) == ("closed", True)
    assert await tasks.claim("hotels", "w2", 5, 60, 8, half_open_calls=2) == []
    await pool.execute("UPDATE agency_breaker SET open_until = now() - interval '1 second'")  # open time over
    probes = await tasks.claim("hotels", "w2", 5, 60, 8, half_open_calls=2)
    assert len(probes) == 2
    assert await tasks.claim("hotels", "w3", 5, 60, 8, half_open_calls=2) == []
    assert await agencies.close_breaker("hotels")
    assert not await agencies.close_breaker("hotels")  # only one worker's close counts
    assert len(await tasks.claim("hotels", "w3", 5, 60, 8, half_open_calls=2)) == 5


async def test_breaker_transitions_are_decided_once(pool: asyncpg.Pool) -> None:
    agencies = AgencyStore(pool)
    await agencies.ensure_breakers(["vehicles"])
    first, second = await asyncio.gather(
        agencies.open_breaker("vehicles", 30, "w1", "timeout"), agencies.open_breaker("vehicles", 30, "w2", "timeout")
    )
    assert sorted([first, second]) == [("closed", True), ("open", False)]  # one worker saw it go down
    shared = (await agencies.breakers())["vehicles"]
    assert shared.view_state == "open" and 29 < shared.remaining_seconds <= 30
    assert not await agencies.close_breaker("vehicles")  # still open: nothing to close
    await pool.execute("UPDATE agency_breaker SET open_until = now()")
    assert (await agencies.breakers())["vehicles"].view_state == "half_open"
    assert await agencies.open_breaker("vehicles", 30, "w1", "timeout") == ("open", True)  # a probe failed


async def test_heartbeats_count_live_dispatchers(pool: asyncpg.Pool) -> None:
    agencies = AgencyStore(pool)
    assert await agencies.beat("w1", 3) == Liveness(1, 0)
    assert await agencies.beat("w2", 3) == Liveness(2, 1)  # w1 < w2: ranks 0 and 1
    assert await agencies.beat("w1", 3) == Liveness(2, 0)
    await pool.execute("UPDATE dispatcher_heartbeat SET seen_at = now() - interval '10 seconds' WHERE worker_id = 'w1'")
    assert await agencies.beat("w2", 3) == Liveness(1, 0)  # w1 was killed: it ages out
    await agencies.forget("w2")
    assert await agencies.live_dispatchers(3) == 0


async def test_a_callback_nonce_is_accepted_once(pool: asyncpg.Pool) -> None:
    agencies = AgencyStore(pool)
    assert await agencies.remember_nonce("banks", "n-1", 600)
    assert not await agencies.remember_nonce("banks", "n-1", 600)
    assert await agencies.remember_nonce("other", "n-1", 600)  # nonces are per agency
    await pool.execute("UPDATE callback_nonce SET expires_at = now() - interval '1 second'")
    await agencies.purge()
    assert await pool.fetchval("SELECT count(*) FROM callback_nonce") == 0


async def test_an_expired_task_keeps_its_last_error_in_the_reason(pool: asyncpg.Pool) -> None:
    [sid] = await make_searches(pool, 1, agencies=["vehicles"])
    store = TaskStore(pool)
    [task] = await store.claim("vehicles", "w1", 1, 60, 5)
    await store.flush([], [Settlement(task.id, "retry", delay_seconds=0, error_code="http_503",
                                      error_message="agency error")], worker_id="w1")
    await pool.execute("UPDATE agency_task SET deadline_at = now() - interval '1 second'")
    assert await store.expire_overdue() == [sid]
    row = await pool.fetchrow("SELECT status, error_code, error_message FROM agency_task WHERE id = $1", task.id)
    assert row["status"] == "expired" and row["error_code"] == "deadline"
    assert "http_503" in row["error_message"] and "截止期限" in row["error_message"]


async def test_a_dead_workers_batch_is_due_again_when_its_lease_lapses(pool: asyncpg.Pool) -> None:
    await make_searches(pool, 5, agencies=["banks"])
    store = TaskStore(pool)
    assert (await store.oldest_due("banks"))[1] == 5
    lost = await store.claim("banks", "dead", 10, 0.2, 4, which="fresh", call_group=uuid.uuid4())
    assert len(lost) == 5
    assert (await store.oldest_due("banks"))[1] == 0  # leased: not due
    await asyncio.sleep(0.3)  # the worker died; its lease lapses
    age, n = await store.oldest_due("banks")
    assert n == 5 and age > 0
    again = await store.claim("banks", "alive", 10, 60, 4, which="fresh", call_group=uuid.uuid4())
    assert sorted(t.id for t in again) == sorted(t.id for t in lost)
    assert all(t.attempts == 2 for t in again)


async def test_two_outcomes_of_one_task_in_a_flush_store_one_answer(pool: asyncpg.Pool) -> None:
    # After a crash that lost the claim, a worker may run a task twice and flush both outcomes.
    await make_searches(pool, 1, agencies=["vehicles"])
    store = TaskStore(pool)
    [task] = await store.claim("vehicles", "w1", 1, 60, 5)
    now = datetime.now(UTC)
    answer = Success(task.id, {"n": 1}, now, "R1", [])
    again = Success(task.id, {"n": 2}, now, "R2", [])
    done = await store.flush([answer, again], [Settlement(task.id, "retry", error_code="timeout")], worker_id="w1")
    assert len(done) == 1
    rows = await pool.fetch("SELECT raw FROM agency_answer WHERE task_id = $1", task.id)
    assert [r["raw"] for r in rows] == [{"n": 2}]


async def test_leases_a_worker_no_longer_holds_are_released_early(pool: asyncpg.Pool) -> None:
    await make_searches(pool, 3, agencies=["vehicles"])
    store = TaskStore(pool)
    tasks = await store.claim("vehicles", "w1", 3, 600, 5)
    assert await store.release_forgotten("w1", [t.id for t in tasks], 0) == 0  # all held
    assert await store.release_forgotten("w1", [tasks[0].id], 60) == 0  # leased just now: not yet
    await asyncio.sleep(0.05)
    assert await store.release_forgotten("w1", [tasks[0].id], 0.01) == 2  # the database lost what w1 did
    again = await store.claim("vehicles", "w2", 3, 600, 5)
    assert sorted(t.id for t in again) == sorted(t.id for t in tasks[1:])
