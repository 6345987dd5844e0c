"""Partition pruning (migration 0025, issue 19) on real PostgreSQL: with 30 more monthly partitions
of agency_task and search_event (as retention keeps years of them), each hot statement that names
a task by id, a search's tasks or its events reads only the partition its rows lie in (plus, for
the statements that must look at every month, as the claim's search for due tasks, nothing else).

The plans are those PostgreSQL runs, nested statements of the functions included: auto_explain
(ANALYZE, FORMAT JSON) reports each to the session as a NOTICE; a partition is read when its scan
node ran (actual loops > 0)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from enforcement.kernel.partitions import add_months, this_month
from enforcement.kernel.queries import Q
from enforcement.searches.store.searches import EVENTS_FROM_START
from enforcement.searches.store.tasks import ClaimWant, Settlement, Success, TaskStore
from enforcement.seeds import CASES, seed

EXTRA_MONTHS = 30


def _scans(plan: dict[str, Any], out: list[tuple[str, str, int]]) -> None:
    rel = plan.get("Relation Name")
    if rel:
        out.append((rel, plan.get("Alias", ""), int(plan.get("Actual Loops", 0))))
    for sub in plan.get("Plans", ()):
        _scans(sub, out)


class Plans:
    """Every statement's plan as auto_explain reported it, with the partitions it read."""

    def __init__(self) -> None:
        self.plans: list[dict[str, Any]] = []

    def listener(self, _conn: Any, msg: Any) -> None:
        text = msg.message
        if "{" in text and "Plan" in text:
            self.plans.append(json.loads(text[text.index("{"):]))

    def read(self, table: str, query_contains: str, alias: str | None = None) -> list[set[str]]:
        """For each reported statement whose text holds ``query_contains``: the partitions of
        ``table`` it read (only the scans of ``alias`` when given: one reference to the table in a
        statement that has several)."""
        out = []
        for p in self.plans:
            if query_contains not in p.get("Query Text", ""):
                continue
            scans: list[tuple[str, str, int]] = []
            _scans(p["Plan"], scans)
            out.append({rel for rel, al, loops in scans
                        if rel.startswith(table + "_") and loops > 0
                        and (alias is None or al == alias or al.startswith(alias + "_"))})
        assert out, f"no plan of a statement with {query_contains!r}"
        return out


@pytest.fixture(params=["auto", "force_generic_plan"])
async def explained(request: pytest.FixtureRequest,
                    pool: asyncpg.Pool) -> AsyncIterator[tuple[asyncpg.Connection, Plans]]:
    first = add_months(this_month(), -EXTRA_MONTHS)
    last = add_months(this_month(), -1)
    await seed(pool)
    async with pool.acquire() as conn:
        for table in ("agency_task", "search_event"):
            await conn.fetch("SELECT * FROM ensure_month_partitions($1::regclass, $2, $3)", table, first, last)
        await conn.execute("ANALYZE agency_task; ANALYZE search_event")
        plans = Plans()
        await conn.execute("LOAD 'auto_explain'")
        for k, v in (("log_min_duration", "0"), ("log_analyze", "on"), ("log_buffers", "on"),
                     ("log_format", "json"), ("log_nested_statements", "on"), ("log_level", "notice"),
                     ("log_timing", "off")):
            await conn.execute(f"SET auto_explain.{k} = '{v}'")
        # a custom plan prunes by the parameters' values; a generic one (as a statement gets after
        # five runs, or as the claim and the completion force) only by what the executor knows
        await conn.execute(f"SET plan_cache_mode = '{request.param}'")
        conn.add_log_listener(plans.listener)
        try:
            yield conn, plans  # type: ignore[misc]
        finally:
            conn.remove_log_listener(plans.listener)
            await conn.execute("RESET ALL")



def answers_read(plans: Plans, query_contains: str) -> list[int]:
    """For each reported statement whose text holds ``query_contains``: how many times it read
    ``agency_answer`` (the loops of its scans)."""
    out = []
    for p in plans.plans:
        if query_contains in p.get("Query Text", ""):
            scans: list[tuple[str, str, int]] = []
            _scans(p["Plan"], scans)
            out.append(sum(loops for rel, _, loops in scans if rel == "agency_answer"))
    return out


def this_months(table: str) -> set[str]:
    """The partition a row made now lies in, and the default (never more)."""
    return {f"{table}_p{this_month():%Y%m}", f"{table}_default"}


async def submit(conn: asyncpg.Connection, agencies: tuple[str, ...] = ("vehicles", "hotels", "banks"),
                 ticket: str | None = None) -> uuid.UUID:
    """A search made now with one queued task per agency (the last holding ``ticket``) and an event,
    in one transaction as the submission makes them (so the tasks share the search's created_at)."""
    sid = uuid.uuid4()
    async with conn.transaction():
        await conn.execute(
            """INSERT INTO search (id, case_id, subject_kind, subject_id_number, subject_name, subject_key, purpose,
                                   requested_by, request_no, case_number, court_code, judge_name, judge_officer_id,
                                   document_number, status)
               SELECT $1::uuid, c.id, 'person', '110101199003071234', '张三', 'person:110101199003071234', '财产调查',
                      'zhangwei', left(replace($1::uuid::text, '-', ''), 20), c.case_number, c.court_code, '张伟',
                      '2101020031', '（2024）辽0102执协查00001号', 'running'
               FROM enforcement_case c WHERE c.case_number = $2""", sid, CASES[0][0])
        for i, agency in enumerate(agencies):
            last = i == len(agencies) - 1
            await conn.execute(
                """INSERT INTO agency_task (search_id, agency, idempotency_key, deadline_at, status, ticket, due_at)
                   VALUES ($1::uuid, $2::text, $1::uuid::text || ':' || $2::text, now() + interval '1 hour',
                           $3, $4, now() - interval '1 s')""",
                sid, agency, "waiting" if last and ticket else "queued", ticket if last else None)
        await conn.execute(
            "INSERT INTO search_event (search_id, agency, kind, payload) VALUES ($1, NULL, 'submitted', '{}')", sid)
    return sid


async def test_the_claim_updates_only_the_claimed_tasks_partition(explained: Any) -> None:
    conn, plans = explained
    await submit(conn)
    store = TaskStore(conn)
    claimed = await store.claim_many([ClaimWant("vehicles", 10, 10), ClaimWant("hotels", 10, 10)], "w", 60, 10)
    assert len(claimed) == 2 and all(t.created_at is not None for t in claimed)
    (read,) = plans.read("agency_task", "UPDATE agency_task t", alias="t")
    assert read and read <= this_months("agency_task"), read
    claimed = await store.claim("banks", "w", 10, 60, 10)
    assert len(claimed) == 1 and claimed[0].created_at is not None
    reads = plans.read("agency_task", "UPDATE agency_task t", alias="t")
    assert reads[-1] and reads[-1] <= this_months("agency_task"), reads[-1]


async def test_the_flush_and_the_completion_read_only_the_tasks_partition(explained: Any) -> None:
    conn, plans = explained
    sid = await submit(conn)
    store = TaskStore(conn)
    claimed = await store.claim_many([ClaimWant(a, 10, 10) for a in ("banks", "hotels", "vehicles")], "w", 60, 10)
    assert len(claimed) == 3
    ok = [Success(t.id, {"ok": True}, datetime.now(UTC), None, [("vehicle", f"V{t.id}", {"v": 1})],
                  created_at=t.created_at) for t in claimed[:2]]
    bad = [Settlement(claimed[2].id, "rejected", error_code="x", error_message="no", created_at=claimed[2].created_at)]
    plans.plans.clear()
    assert await store.flush(ok, bad, worker_id="w") == [sid]
    answered = plans.read("agency_task", "SET status = 'succeeded'", alias="t")
    settled = plans.read("agency_task", "WHEN u.outcome = 'retry'", alias="t")
    finished = plans.read("agency_task", "WITH ready AS MATERIALIZED", alias="t")
    for read in (*answered, *settled, *finished):
        assert read and read <= this_months("agency_task"), read


async def test_a_searchs_tasks_and_events_read_only_its_partitions(explained: Any) -> None:
    conn, plans = explained
    sid = await submit(conn)
    assert len(await conn.fetch(Q.get_search_tasks, sid)) == 3
    (read,) = plans.read("agency_task", "t.search_id = $1", alias="t")
    assert read and read <= this_months("agency_task"), read
    assert len(await conn.fetch(Q.events_of_search, sid, 0)) == 1  # past the derived: no task read
    (read,) = plans.read("search_event", "e.search_id = $1", alias="e")
    # the month it was made in and at most the next (a day's margin), never the 30 before
    assert read and len(read - this_months("search_event")) <= 1, read
    assert plans.read("agency_task", "tk.search_id = $1", alias="tk") == [set()]
    # what a stream's idle replay reads once the derived events are sent: the stored ones alone
    assert len(await conn.fetch(Q.stored_events_of_search, sid, 0)) == 1
    reads = plans.read("search_event", "e.search_id = $1", alias="e")
    assert len(reads) == 2 and reads[-1] and len(reads[-1] - this_months("search_event")) <= 1, reads
    assert plans.read("agency_task", "e.search_id = $1")[-1] == set()
    # from the start: the tasks' derived submission events (decision 1930), read in their partition only
    assert len(await conn.fetch(Q.events_of_search, sid, EVENTS_FROM_START)) == 3 + 1
    read = plans.read("agency_task", "tk.search_id = $1", alias="tk")[-1]
    assert read and read <= this_months("agency_task"), read
    guard = plans.read("search_event", "tk.search_id = $1", alias="e0")[-1]
    assert guard and guard <= this_months("search_event"), guard
    # a search whose events are kept: nothing of the derivation past retention runs (decision 1950)
    assert answers_read(plans, "tk.search_id = $1") == [0, 0]
    await conn.fetch(Q.get_search_records, sid)
    (read,) = plans.read("agency_task", "JOIN asset_record r", alias="t")
    assert read <= this_months("agency_task"), read


async def test_past_event_retention_the_log_is_derived_from_the_tasks_partition_alone(explained: Any) -> None:
    """A completed search whose month of events retention dropped (decision 1950): its whole log is
    derived from its tasks' partition (and the search row); no partition of search_event is read."""
    conn, plans = explained
    month = add_months(this_month(), -20)
    at = datetime(month.year, month.month, 15, 12, tzinfo=UTC)
    sid = uuid.uuid4()
    async with conn.transaction():
        await conn.execute(
            """INSERT INTO search (id, case_id, subject_kind, subject_id_number, subject_name, subject_key, purpose,
                                   requested_by, request_no, case_number, court_code, judge_name, judge_officer_id,
                                   document_number, status, created_at, completed_at)
               SELECT $1::uuid, c.id, 'person', '110101199003071234', '张三', 'person:110101199003071234', '财产调查',
                      'zhangwei', left(replace($1::uuid::text, '-', ''), 20), c.case_number, c.court_code, '张伟',
                      '2101020031', '（2024）辽0102执协查00001号', 'completed', $3::timestamptz,
                      $3::timestamptz + interval '1 hour'
               FROM enforcement_case c WHERE c.case_number = $2""", sid, CASES[0][0], at)
        for agency in ("vehicles", "hotels", "banks"):
            await conn.execute(
                """INSERT INTO agency_task (search_id, agency, idempotency_key, deadline_at, status, error_code,
                                            created_at, finished_at)
                   VALUES ($1::uuid, $2::text, $1::uuid::text || ':' || $2::text,
                           $3::timestamptz + interval '1 day', 'rejected', 'no_such_person', $3::timestamptz,
                           $3::timestamptz + interval '1 hour')""", sid, agency, at)
    await conn.execute(f"DROP TABLE search_event_p{month:%Y%m}")  # as retention does
    plans.plans.clear()
    rows = await conn.fetch(Q.events_of_search, sid, EVENTS_FROM_START)
    assert [r["id"] for r in rows] == list(range(-7, 0))
    assert [r["kind"] for r in rows] == ["task"] * 6 + ["search_completed"]
    (read,) = plans.read("agency_task", "tk.search_id = $1")
    assert read == {f"agency_task_p{month:%Y%m}"}, read
    assert answers_read(plans, "tk.search_id = $1") == [3]  # a look-up per final state
    assert plans.read("search_event", "tk.search_id = $1", alias="e") == [set()]
    assert plans.read("search_event", "tk.search_id = $1", alias="e0") == [set()]


async def test_the_ticket_lookups_read_only_the_tasks_partition(explained: Any) -> None:
    conn, plans = explained
    await submit(conn, ticket="T-prune-1")
    found = await TaskStore(conn).find_by_ticket("banks", "T-prune-1")
    assert found is not None and found.created_at is not None
    (read,) = plans.read("agency_task", "FROM agency_ticket k", alias="t")
    assert read and read <= this_months("agency_task"), read
    plans.plans.clear()
    rows = await conn.fetch(Q.find_tasks_by_tickets, ["T-prune-1", "T-none"])
    assert [r["ticket"] for r in rows] == ["T-prune-1"]
    (read,) = plans.read("agency_task", "FROM agency_ticket k", alias="t")
    assert read and read <= this_months("agency_task"), read


async def test_without_the_partition_key_every_partition_is_read(explained: Any) -> None:
    """The test can fail: the same lookup by id alone reads every month's partition."""
    conn, plans = explained
    await submit(conn)
    await conn.fetch("SELECT id FROM agency_task t WHERE t.id = ANY($1::bigint[])", [1, 2])
    (read,) = plans.read("agency_task", "t.id = ANY($1::bigint[])", alias="t")
    assert len(read) > EXTRA_MONTHS

