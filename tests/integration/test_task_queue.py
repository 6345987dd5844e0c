"""The durable task queue on real PostgreSQL: exclusive claims, leases, and guarded outcomes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from enforcement.kernel.pool import create_pool
from enforcement.kernel.queries import Q
from enforcement.searches.store.searches import AgencyPlan, NewSearch, SearchStore
from enforcement.searches.store.tasks import (
    ClaimedTask,
    ClaimWant,
    Settlement,
    Success,
    TaskStore,
    flush_arguments,
)
from enforcement.seeds import seed

AGENCIES = ["vehicles", "hotels", "banks"]


async def make_searches(pool: asyncpg.Pool, n: int, *, agencies: list[str] = AGENCIES,
                        deadline: float = 600.0) -> list[uuid.UUID]:
    ids = await seed(pool)
    case_id = next(iter(ids.values()))
    store = SearchStore(pool)
    out = []
    for i in range(n):
        sid = uuid.uuid4()
        await store.create(NewSearch(
            id=sid, case_id=case_id, subject_kind="person", subject_id_number=f"1101011990010{i:05d}",
            subject_name="测试", subject_key=f"person:{i}", purpose="财产调查", requested_by="zhangwei",
            force_fresh=False, request_no=sid.hex[:20], case_number="（2026）辽0102执1号", court_code="辽0102",
            judge_name="张伟", judge_officer_id="1", document_number="doc",
            agencies=[AgencyPlan(a, deadline, 24.0) for a in agencies],
        ))
        out.append(sid)
    return out


async def test_concurrent_claimers_never_share_a_task(pool: asyncpg.Pool) -> None:
    await make_searches(pool, 40, agencies=["vehicles"])
    store = TaskStore(pool)

    async def claimer(worker: str) -> list[int]:
        got: list[int] = []
        while True:
            tasks = await store.claim("vehicles", worker, 3, 60, 10_000)
            if not tasks:
                return got
            got.extend(t.id for t in tasks)
            await asyncio.sleep(0)

    results = await asyncio.gather(*(claimer(f"w{i}") for i in range(8)))
    claimed = [t for r in results for t in r]
    assert len(claimed) == 40
    assert len(set(claimed)) == 40, "a task was claimed twice"
    assert sum(1 for r in results if r) > 1, "only one claimer got work: the test proves nothing"


async def test_expired_lease_is_reclaimed_by_another_worker(pool: asyncpg.Pool) -> None:
    await make_searches(pool, 1, agencies=["vehicles"])
    store = TaskStore(pool)
    [task] = await store.claim("vehicles", "dead-worker", 10, 0.2, 100)
    assert await store.claim("vehicles", "other", 10, 60, 100) == []  # still leased
    await asyncio.sleep(0.3)
    [again] = await store.claim("vehicles", "other", 10, 60, 100)
    assert again.id == task.id
    assert again.attempts == 2
    assert again.idempotency_key == task.idempotency_key  # same key: the agency will not count it twice


async def test_outcome_from_a_worker_that_lost_its_lease_is_ignored(pool: asyncpg.Pool) -> None:
    [sid] = await make_searches(pool, 1, agencies=["vehicles"])
    store = TaskStore(pool)
    [task] = await store.claim("vehicles", "slow", 10, 0.1, 100)
    await asyncio.sleep(0.2)
    [taken] = await store.claim("vehicles", "fast", 10, 60, 100)
    late = Success(task.id, {"late": True}, datetime.now(UTC), None, [("vehicle", "VIN1", {"vin": "VIN1"})])
    assert await store.flush([late], [], worker_id="slow") == []
    row = await pool.fetchrow("SELECT status, leased_by FROM agency_task WHERE id = $1", task.id)
    assert (row["status"], row["leased_by"]) == ("running", "fast")
    assert await pool.fetchval("SELECT count(*) FROM agency_answer") == 0
    on_time = Success(taken.id, {"ok": True}, datetime.now(UTC), "ref-1", [("vehicle", "VIN1", {"vin": "VIN1"})])
    assert await store.flush([on_time], [], worker_id="fast") == [sid]
    assert await pool.fetchval("SELECT status FROM search WHERE id = $1", sid) == "completed"


async def test_agency_wide_in_flight_limit_holds_across_claimers(pool: asyncpg.Pool) -> None:
    await make_searches(pool, 30, agencies=["banks"])
    store = TaskStore(pool)
    first = await store.claim("banks", "a", 50, 60, 8)
    second = await store.claim("banks", "b", 50, 60, 8)
    assert len(first) == 8
    assert second == []


async def test_claim_many_keeps_each_agency_within_its_limits(pool: asyncpg.Pool) -> None:
    await make_searches(pool, 12, agencies=["vehicles", "hotels"])
    store = TaskStore(pool)
    first = await store.claim_many([ClaimWant("vehicles", 50, 5), ClaimWant("hotels", 3, 100)], "a", 60, 100)
    by_agency = {a: sum(1 for t in first if t.agency == a) for a in ("vehicles", "hotels")}
    assert by_agency == {"vehicles": 5, "hotels": 3}  # vehicles by its agency-wide cap, hotels by this claim's
    # the agency-wide cap counts the other worker's calls in flight: vehicles has no room left
    second = await store.claim_many([ClaimWant("vehicles", 50, 5), ClaimWant("hotels", 50, 100)], "b", 60, 100)
    assert {t.agency for t in second} == {"hotels"} and len(second) == 9
    assert not {t.id for t in first} & {t.id for t in second}


async def test_claim_many_takes_at_most_the_total_earliest_due_first(pool: asyncpg.Pool) -> None:
    await make_searches(pool, 10, agencies=["vehicles", "hotels"])
    store = TaskStore(pool)
    due = {r["id"]: r["due_at"] for r in await pool.fetch("SELECT id, due_at FROM agency_task")}
    got = await store.claim_many([ClaimWant("vehicles", 50, 100), ClaimWant("hotels", 50, 100)], "a", 60, 7)
    assert len(got) == 7
    assert max(due[t.id] for t in got) <= min(due[i] for i in set(due) - {t.id for t in got})


async def test_claim_many_takes_nothing_from_an_agency_whose_breaker_is_open(pool: asyncpg.Pool) -> None:
    await make_searches(pool, 4, agencies=["vehicles", "hotels"])
    await pool.execute("INSERT INTO agency_breaker (agency, state, open_until) VALUES ('hotels', 'open', "
                       "now() + interval '1 minute') ON CONFLICT (agency) DO UPDATE SET state = 'open', "
                       "open_until = now() + interval '1 minute'")
    store = TaskStore(pool)
    got = await store.claim_many([ClaimWant("vehicles", 50, 100), ClaimWant("hotels", 50, 100)], "a", 60, 100)
    assert {t.agency for t in got} == {"vehicles"} and len(got) == 4


async def test_concurrent_claim_many_never_share_a_task(pool: asyncpg.Pool) -> None:
    await make_searches(pool, 30, agencies=["vehicles", "hotels"])
    store = TaskStore(pool)
    wants = [ClaimWant("vehicles", 2, 10_000), ClaimWant("hotels", 2, 10_000)]
    # Every claimer's connection open before they start: a claim is one round trip, and the first
    # claimer could otherwise take all sixty while the others are still connecting.
    held = [await pool.acquire() for _ in range(6)]
    for c in held:
        await pool.release(c)

    # And every claimer's first claim made before any makes its second: otherwise one that came
    # in first could take its threes faster than the others' first claims were scheduled.
    first_made = asyncio.Barrier(6)

    async def claimer(worker: str) -> list[int]:
        got: list[int] = []
        first = True
        while True:
            tasks = await store.claim_many(wants, worker, 60, 3)
            if first:
                first = False
                await first_made.wait()
            if not tasks:
                return got
            got.extend(t.id for t in tasks)
            await asyncio.sleep(0)

    results = await asyncio.gather(*(claimer(f"w{i}") for i in range(6)))
    claimed = [t for r in results for t in r]
    assert len(claimed) == 60 and len(set(claimed)) == 60, "a task was claimed twice, or one was left"
    assert sum(1 for r in results if r) > 1, "only one claimer got work: the test proves nothing"


async def test_retry_waiting_and_terminal_outcomes(pool: asyncpg.Pool) -> None:
    [sid] = await make_searches(pool, 1)
    store = TaskStore(pool)
    claimed: dict[str, Any] = {}
    for agency in AGENCIES:
        [claimed[agency]] = await store.claim(agency, "w", 10, 60, 100)
    await store.flush([], [
        Settlement(claimed["vehicles"].id, "retry", delay_seconds=30, error_code="http_503", error_message="busy"),
        Settlement(claimed["banks"].id, "waiting", ticket="T-1", delay_seconds=5),
        Settlement(claimed["hotels"].id, "rejected", error_code="40001", error_message="缺少文书号"),
    ], worker_id="w")
    rows = {r["agency"]: r for r in await pool.fetch("SELECT * FROM agency_task WHERE search_id = $1", sid)}
    assert rows["vehicles"]["status"] == "queued" and rows["vehicles"]["due_at"] > datetime.now(UTC)
    assert rows["banks"]["status"] == "waiting" and rows["banks"]["ticket"] == "T-1"
    assert rows["hotels"]["status"] == "rejected" and rows["hotels"]["finished_at"] is not None
    assert await store.claim("vehicles", "w", 10, 60, 100) == []  # not due yet
    # A callback (no worker) answers the waiting bank ticket; the search is not complete yet.
    found = await store.find_by_ticket("banks", "T-1")
    assert found is not None
    ok = Success(found.id, {"k": 1}, datetime.now(UTC), None, [])
    assert await store.flush([ok], [], worker_id=None) == []
    await pool.execute("UPDATE agency_task SET due_at = now() WHERE id = $1", claimed["vehicles"].id)
    [retry] = await store.claim("vehicles", "w", 10, 60, 100)
    assert retry.attempts == 2
    assert await store.flush([Success(retry.id, {}, datetime.now(UTC), None, [])], [], worker_id="w") == [sid]
    events = await pool.fetch("SELECT kind FROM search_event WHERE search_id = $1 ORDER BY id", sid)
    assert events[-1]["kind"] == "search_completed"


async def test_overdue_tasks_expire_and_complete_the_search(pool: asyncpg.Pool) -> None:
    [sid] = await make_searches(pool, 1, agencies=["banks"], deadline=0.05)
    await asyncio.sleep(0.1)
    store = TaskStore(pool)
    assert await store.expire_overdue() == [sid]
    row = await pool.fetchrow("SELECT status, error_code FROM agency_task WHERE search_id = $1", sid)
    assert (row["status"], row["error_code"]) == ("expired", "deadline")


async def test_claim_many_counts_calls_in_flight_only_after_the_agencys_lock(pool: asyncpg.Pool) -> None:
    """Another claimer holds the agency's lock and has five calls in flight, not yet committed: a
    claim in one statement waits for the lock, then counts with a snapshot that sees them, and
    takes nothing (limit 5). Without the lock, or with the snapshot taken before it, it would
    take five more."""
    await make_searches(pool, 20, agencies=["vehicles"])
    store = TaskStore(pool)
    async with pool.acquire() as other, other.transaction():
        await other.execute("SELECT pg_advisory_xact_lock(1701734767, hashtext('vehicles'))")
        await other.execute("""UPDATE agency_task SET status = 'running', leased_by = 'other',
                               lease_expires_at = now() + interval '1 minute'
                               WHERE id IN (SELECT id FROM agency_task ORDER BY id LIMIT 5)""")
        claim = asyncio.create_task(store.claim_many([ClaimWant("vehicles", 50, 5)], "a", 60, 50))
        await asyncio.sleep(0.3)
        assert not claim.done(), "the claim did not wait for the agency's lock"
    assert await claim == []
    # and once those calls are over, there is room again
    await pool.execute("UPDATE agency_task SET status = 'succeeded', leased_by = NULL WHERE leased_by = 'other'")
    assert len(await store.claim_many([ClaimWant("vehicles", 50, 5)], "a", 60, 50)) == 5


async def pool_tasks(pool: asyncpg.Pool) -> list[int]:
    return [r["id"] for r in await pool.fetch("SELECT id FROM agency_task WHERE leased_by = 'a' ORDER BY id")]


async def test_claim_many_and_flush_are_one_round_trip_each(db_url: str) -> None:
    one = await create_pool(db_url, min_size=1, max_size=1)
    try:
        await make_searches(one, 3, agencies=["vehicles", "hotels"])
        statements: list[str] = []
        sent: list[tuple] = []
        async with one.acquire() as c:
            c.add_query_logger(lambda q: (statements.append(q.query), sent.append(q.args)))
        wants = [ClaimWant("vehicles", 50, 100), ClaimWant("hotels", 50, 100)]
        store = TaskStore(one)
        first = await store.claim_many(wants, "a", 60, 2)  # warm: statement prepared, types known
        assert len(first) == 2
        statements.clear()
        rest = await store.claim_many(wants, "a", 60, 100)
        assert len(rest) == 4
        assert statements == [Q.claim_tasks_many]  # no BEGIN, no separate lock, no COMMIT
        # and the outcomes, the searches they finish included, in one statement too (each carries
        # its task's created_at from the claim: its partition, migration 0025)
        claimed = sorted([*first, *rest], key=lambda t: t.id)
        assert all(t.created_at is not None for t in claimed)
        def answer(t: ClaimedTask) -> Success:
            return Success(t.id, {"ok": True}, datetime.now(UTC), None,
                           [("vehicle", f"VIN{t.id}", {"vin": f"VIN{t.id}"})], created_at=t.created_at)
        assert await store.flush([answer(claimed[0])], [], worker_id="a") == []  # warm: types known
        statements.clear()
        sent.clear()
        answers = [answer(t) for t in claimed[1:-1]]
        rejected = [Settlement(claimed[-1].id, "rejected", error_code="bad", error_message="no",
                               created_at=claimed[-1].created_at)]
        done = await store.flush(answers, rejected, worker_id="a")
        assert statements == [Q.flush_outcomes_packed]
        # exactly flush_arguments' parameters (what ops/bench/partition_plans.py explains)
        assert sent == [flush_arguments(answers, rejected, "a")]
        # an outcome without its task's created_at is looked up first (one statement more)
        statements.clear()
        assert await store.flush([], [Settlement(claimed[0].id, "failed")], worker_id="a") == []
        assert statements == [Q.task_created_at, Q.flush_outcomes_packed]
        assert len(done) == 3  # every task of the three searches is terminal now
    finally:
        await one.close()


async def test_an_agencys_claim_counts_calls_in_flight_only_after_its_lock(pool: asyncpg.Pool) -> None:
    """``claim`` (a batch-capable agency's polls and batches) is one statement too (migration
    0020): it waits for the agency's lock held by another claimer with five calls in flight not
    yet committed, then counts them with a fresh snapshot and takes nothing (limit 5)."""
    await make_searches(pool, 20, agencies=["banks"])
    store = TaskStore(pool)
    async with pool.acquire() as other, other.transaction():
        await other.execute("SELECT pg_advisory_xact_lock(1701734767, hashtext('banks'))")
        await other.execute("""UPDATE agency_task SET status = 'running', leased_by = 'other',
                               lease_expires_at = now() + interval '1 minute'
                               WHERE id IN (SELECT id FROM agency_task ORDER BY id LIMIT 5)""")
        claim = asyncio.create_task(store.claim("banks", "a", 50, 60, 5))
        await asyncio.sleep(0.3)
        assert not claim.done(), "the claim did not wait for the agency's lock"
    assert await claim == []
    # a batch (one call group) counts once: room for it again once those calls are over
    await pool.execute("UPDATE agency_task SET status = 'succeeded', leased_by = NULL WHERE leased_by = 'other'")
    batch = await store.claim("banks", "a", 10, 60, 1, which="fresh", call_group=uuid.uuid4())
    assert len(batch) == 10
    assert await store.claim("banks", "b", 10, 60, 1, which="fresh", call_group=uuid.uuid4()) == []


async def test_an_agencys_claim_is_one_round_trip(db_url: str) -> None:
    one = await create_pool(db_url, min_size=1, max_size=1)
    try:
        await make_searches(one, 3, agencies=["banks"])
        statements: list[str] = []
        async with one.acquire() as c:
            c.add_query_logger(lambda q: statements.append(q.query))
        store = TaskStore(one)
        assert await store.claim("banks", "a", 50, 60, 100, which="polls") == []  # warm: prepared
        statements.clear()
        assert len(await store.claim("banks", "a", 50, 60, 100, which="fresh", call_group=uuid.uuid4())) == 3
        assert statements == [Q.claim_tasks]  # no BEGIN, no separate lock, no COMMIT
    finally:
        await one.close()


async def test_two_flushes_finishing_a_searchs_last_two_tasks_complete_it_once(pool: asyncpg.Pool) -> None:
    """Flush A answers one of a search's last two tasks and has not committed (it holds the
    search's lock and saw the other task running); flush B answers the other one meanwhile. B
    waits for A's lock, then counts with a snapshot that sees A's answer: the search is completed
    once, by B. Without the lock (or with B's count taken before it) neither would complete it."""
    [sid] = await make_searches(pool, 1, agencies=["vehicles", "hotels"])
    store = TaskStore(pool)
    [v] = await store.claim("vehicles", "a", 10, 60, 100)
    [h] = await store.claim("hotels", "b", 10, 60, 100)
    async with pool.acquire() as a:
        tx = a.transaction()
        await tx.start()
        try:
            got_a = await a.fetch(Q.flush_outcomes_packed, "a", [(v.id, {"ok": 1}, None, [])], [datetime.now(UTC)],
                                  [v.created_at], [], [], [], [], [], [], [])
            assert got_a == []  # the hotels task is still running as A sees it
            flush_b = asyncio.create_task(store.flush(
                [Success(h.id, {"ok": 2}, datetime.now(UTC), None, [], created_at=h.created_at)], [], worker_id="b"))
            await asyncio.sleep(0.3)
            assert not flush_b.done(), "flush B did not wait for the search's lock"
        finally:
            await tx.commit()
    assert await flush_b == [sid]
    assert await pool.fetchval("SELECT status FROM search WHERE id = $1", sid) == "completed"
    kinds = [r["kind"] for r in await pool.fetch("SELECT kind FROM search_event WHERE search_id = $1", sid)]
    assert kinds.count("search_completed") == 1


async def test_concurrent_flushes_complete_every_search_exactly_once(pool: asyncpg.Pool) -> None:
    """Thirty searches of two tasks each; two workers answer one task of every search each, in
    concurrent flushes of ten: every search ends completed with one completion event."""
    sids = await make_searches(pool, 30, agencies=["vehicles", "hotels"])
    store = TaskStore(pool)
    vs = await store.claim("vehicles", "a", 100, 60, 100)
    hs = await store.claim("hotels", "b", 100, 60, 100)
    assert len(vs) == len(hs) == 30

    async def worker(tasks: list[ClaimedTask], worker_id: str) -> list[uuid.UUID]:
        done: list[uuid.UUID] = []
        for i in range(0, len(tasks), 10):
            done += await store.flush([Success(t.id, {}, datetime.now(UTC), None, [], created_at=t.created_at)
                                       for t in tasks[i:i + 10]], [], worker_id=worker_id)
        return done

    a, b = await asyncio.gather(worker(vs, "a"), worker(hs, "b"))
    assert sorted(a + b) == sorted(sids)
    rows = await pool.fetch("""SELECT s.status, (SELECT count(*) FROM search_event e WHERE e.search_id = s.id
                                                   AND e.kind = 'search_completed') AS n
                               FROM search s WHERE s.id = ANY($1::uuid[])""", sids)
    assert {(r["status"], r["n"]) for r in rows} == {("completed", 1)}


async def test_a_packed_flush_stores_what_the_parallel_arrays_stored(pool: asyncpg.Pool) -> None:
    """The flush sends the answers and their records as one jsonb document (issue 19): every
    answer, record, count, reference and time lands as the parallel arrays of flush_outcomes
    landed them, each record with its own answer, in order."""
    await make_searches(pool, 2, agencies=["vehicles", "hotels", "banks"])
    store = TaskStore(pool)
    [v1, v2] = await store.claim("vehicles", "w", 10, 60, 100)
    [h1, h2] = await store.claim("hotels", "w", 10, 60, 100)
    at = datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC)

    def answers(vehicle: ClaimedTask, hotel: ClaimedTask) -> list[Success]:
        return [
            Success(vehicle.id, {"车辆": [{"号牌": "辽A12345", "n": 1.5}], "none": None}, at, "REF-1",
                    [("vehicle", "VIN1", {"vin": "VIN1", "mortgaged": True, "seizures": 0}),
                     ("vehicle", "VIN2", {"vin": "VIN2", "owners": ["张三", "李四"], "note": 'a"b\\c'})],
                    created_at=vehicle.created_at),
            Success(hotel.id, {"empty": {}}, at, None, [], created_at=hotel.created_at),
        ]

    old = answers(v1, h1)
    records = [(s.task_id, kind, key, data) for s in old for kind, key, data in s.records]
    await pool.fetch(Q.flush_outcomes, "w", [s.task_id for s in old], [s.raw for s in old],
                     [len(s.records) for s in old], [s.agency_reference for s in old], [s.answered_at for s in old],
                     [r[0] for r in records], [r[1] for r in records], [r[2] for r in records],
                     [r[3] for r in records], [], [], [], [], [], [], [s.created_at for s in old], [])
    await store.flush(answers(v2, h2), [], worker_id="w")

    async def stored(task_ids: list[int]) -> list[tuple[Any, ...]]:
        rows = await pool.fetch(
            """SELECT a.raw, a.record_count, a.agency_reference, a.answered_at, r.kind, r.natural_key, r.data
               FROM agency_answer a LEFT JOIN asset_record r ON r.answer_id = a.id
               WHERE a.task_id = ANY($1::bigint[]) ORDER BY a.task_id = $2 DESC, r.id""", task_ids, task_ids[0])
        return [tuple(r) for r in rows]

    before, after = await stored([v1.id, h1.id]), await stored([v2.id, h2.id])
    assert len(before) == 3 and before[0][1] == 2 and before[0][2] == "REF-1" and before[0][3] == at
    assert after == before
    statuses = await pool.fetch("SELECT status FROM agency_task WHERE id = ANY($1::bigint[])",
                                [v1.id, v2.id, h1.id, h2.id])
    assert {r["status"] for r in statuses} == {"succeeded"}
