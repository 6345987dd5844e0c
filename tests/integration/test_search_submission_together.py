"""Judges' submissions committed together (issue 19, decision 1945), on real PostgreSQL: the
store's writer writes a submission alone (``submit_search``) when no write is in flight, and the
submissions queued meanwhile in ONE ``submit_searches`` statement, with the same rows as one by one
(searches, tasks, reuse, audit records in queue order, events, notifications); a bad submission in
a batch fails alone and the others are kept."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import asyncpg

from enforcement.kernel.queries import Q
from enforcement.searches.store.searches import NewSearch, SearchStore
from enforcement.seeds import seed
from tests.integration.test_search_submission import (
    AGENCIES,
    AUDIT,
    NUMBER,
    Heard,
    answer_all,
    audit_entry,
    heard,  # noqa: F401 (fixture)
    new_search,
)

_NAMES = {Q[n]: n for n in Q.names()}


class CountingPool:
    """The pool, counting the named statements sent through ``fetch``."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.sent: list[str] = []

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        self.sent.append(_NAMES.get(query, query))
        return await self._pool.fetch(query, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


def mix(case_id: int) -> list[tuple[NewSearch, bool]]:
    """Six submissions: reused (completed at once), forced fresh (queued), one agency, without an
    audit record; (search, audited)."""
    return [
        (new_search(case_id), True),
        (replace(new_search(case_id), force_fresh=True), True),
        (new_search(case_id, agencies=["vehicles"]), True),
        (replace(new_search(case_id, agencies=["hotels", "banks"]), force_fresh=True), False),
        (new_search(case_id), False),
        (replace(new_search(case_id, agencies=["banks"]), force_fresh=True), True),
    ]


async def shape(pool: asyncpg.Pool, store: SearchStore, made: list[tuple[NewSearch, list[Any]]]) -> list[Any]:
    """What the submissions wrote, per search in submission order, without ids and times."""
    out = []
    for new, tasks in made:
        s = await store.get(new.id)
        assert s is not None
        stored = await store.tasks(new.id)
        assert sorted(t.id for t in tasks) == sorted(t.id for t in stored)
        answered = {r["id"]: r["search_id"] for r in await pool.fetch("SELECT id, search_id FROM agency_answer")}
        events = [(e.kind, e.agency, {k: v for k, v in e.payload.items() if k not in ("task_id", "completed_at")})
                  for e in await store.events_of(new.id)]
        records = [(r["action"], r["request_id"] == f"req-{new.id}", r["details"], AUDIT.signed(r)) for r in
                   await pool.fetch("SELECT * FROM audit_log WHERE target = $1 ORDER BY id", str(new.id))]
        out.append((
            s.status, s.completed_at == s.created_at if s.completed_at else None, s.document_number,
            [(t.agency, t.status, t.reused, t.answer_id is not None and answered[t.answer_id]) for t in tasks],
            events, records,
        ))
    return out


async def targets_in_id_order(pool: asyncpg.Pool, since: int) -> list[str]:
    return [r["target"] for r in await pool.fetch("SELECT target FROM audit_log WHERE id > $1 ORDER BY id", since)]


async def test_concurrent_submissions_are_one_statement_with_the_rows_of_one_by_one(
    pool: asyncpg.Pool, heard: Heard,  # noqa: F811
) -> None:
    case_id = (await seed(pool))[NUMBER]
    counting = CountingPool(pool)
    store = SearchStore(counting, AUDIT)  # type: ignore[arg-type]
    first = new_search(case_id)
    await store.create(first, audit_entry=audit_entry(first))
    await answer_all(pool, first.id)  # stored answers: the later searches that may reuse them do
    await heard.until("agency_tasks")

    one_by_one = mix(case_id)
    counting.sent.clear()
    made = [(new, await store.create(new, audit_entry=audit_entry(new) if audited else None))
            for new, audited in one_by_one]
    assert counting.sent == ["submit_search"] * 6  # nothing in flight: each alone, as before
    expected = await shape(pool, store, made)
    last_id = await pool.fetchval("SELECT max(id) FROM audit_log")
    for ch in heard.by_channel.values():
        ch.clear()

    together = mix(case_id)
    counting.sent.clear()
    results = await asyncio.gather(*(store.create(new, audit_entry=audit_entry(new) if audited else None)
                                     for new, audited in together))
    assert counting.sent == ["submit_searches"]  # the six in one statement
    got = await shape(pool, store, [(new, tasks) for (new, _), tasks in zip(together, results, strict=True)])
    assert got == expected
    assert [(t[0], t[3]) for t in got][:2] == [
        ("completed", [(a, "succeeded", True, first.id) for a in AGENCIES]),
        ("running", [(a, "queued", False, False) for a in AGENCIES])]
    # The audit records in queue order (their ids from the sequence in it), chained as before.
    assert await targets_in_id_order(pool, last_id) == [str(new.id) for new, audited in together if audited]
    assert (await AUDIT.chain_pending(pool)).chained == 1 + 4 + 4
    async with pool.acquire() as c:
        checked = await AUDIT.verify(c)
    assert (checked.broken, checked.checked) == (None, 9)
    # One agency_tasks notification per search that queued tasks; audit_pending and search_events once.
    queued = [new for (new, _), tasks in zip(together, results, strict=True)
              if any(t.status == "queued" for t in tasks)]
    assert sorted(await heard.until("agency_tasks", len(queued))) == sorted(
        f"{','.join(a.agency for a in new.agencies)};{new.id}" for new in queued)
    await heard.until("audit_pending")
    await heard.until("search_events")
    await asyncio.sleep(0.2)
    assert (len(heard.by_channel["audit_pending"]), len(heard.by_channel["search_events"])) == (1, 1)
    assert len(heard.by_channel["agency_tasks"]) == len(queued)


async def test_a_submission_alone_is_submit_search_and_a_long_queue_is_cut_at_the_cap(pool: asyncpg.Pool) -> None:
    case_id = (await seed(pool))[NUMBER]
    counting = CountingPool(pool)
    store = SearchStore(counting, AUDIT)  # type: ignore[arg-type]
    new = new_search(case_id)
    tasks = await store.create(new, audit_entry=audit_entry(new))
    assert counting.sent == ["submit_search"]
    assert [(t.agency, t.status) for t in tasks] == [(a, "queued") for a in AGENCIES]

    store.writer.cap = 4
    counting.sent.clear()
    news = [new_search(case_id) for _ in range(9)]
    last_id = await pool.fetchval("SELECT max(id) FROM audit_log")
    results = await asyncio.gather(*(store.create(n, audit_entry=audit_entry(n)) for n in news))
    assert counting.sent == ["submit_searches", "submit_searches", "submit_search"]  # 4, 4, then 1 alone
    assert [[(t.agency, t.status) for t in r] for r in results] == [[(a, "queued") for a in AGENCIES]] * 9
    assert await targets_in_id_order(pool, last_id) == [str(n.id) for n in news]


async def test_a_bad_submission_in_a_batch_fails_alone_and_the_others_are_kept(
    pool: asyncpg.Pool, heard: Heard,  # noqa: F811
) -> None:
    case_id = (await seed(pool))[NUMBER]
    counting = CountingPool(pool)
    store = SearchStore(counting, AUDIT)  # type: ignore[arg-type]
    taken = new_search(case_id)
    await store.create(taken, audit_entry=audit_entry(taken))
    last_id = await pool.fetchval("SELECT max(id) FROM audit_log")
    counting.sent.clear()
    good1, good2 = new_search(case_id), new_search(case_id, agencies=["banks"])
    bad = replace(new_search(case_id, agencies=["hotels"]), id=taken.id)  # the id is taken
    outcome = await asyncio.gather(*(store.create(n, audit_entry=audit_entry(n)) for n in (good1, bad, good2)),
                                   return_exceptions=True)
    # the batch failed as a whole, then each alone: only the bad one fails
    assert counting.sent == ["submit_searches", "submit_search", "submit_search", "submit_search"]
    assert isinstance(outcome[1], asyncpg.UniqueViolationError)
    assert [[(t.agency, t.status) for t in r] for r in (outcome[0], outcome[2])] == [  # type: ignore[union-attr]
        [(a, "queued") for a in AGENCIES], [("banks", "queued")]]
    for n in (good1, good2):
        assert (await store.get(n.id)) is not None and len(await store.tasks(n.id)) == len(n.agencies)
    assert [t.agency for t in await store.tasks(taken.id)] == sorted(AGENCIES)  # untouched: no hotels task added
    assert await targets_in_id_order(pool, last_id) == [str(good1.id), str(good2.id)]  # no record of the bad one
    # The next submission alone still goes through (the writer is free again).
    after = new_search(case_id)
    assert len(await store.create(after, audit_entry=audit_entry(after))) == len(AGENCIES)
