"""agency_task and search_event partitioned by month (migration 0021, decision 1901) on real
PostgreSQL: the coming months' partitions are created ahead; a row the default partition took
moves into its month's partition when that is created; retention drops whole partitions (gone from
pg_class and pg_inherits, their rows with them) only when they are wholly past retention and hold
nothing unfinished; the default partition never blocks it; the invariants the unpartitioned tables
held (one task per search and agency, one task per agency ticket) still hold across partitions;
and the search API still answers for a recent search after retention ran."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from enforcement.kernel import partitions
from enforcement.kernel.partitions import add_months, drop_expired, ensure_ahead, list_partitions, this_month
from enforcement.seeds import CASES, seed

NOW = datetime.now(UTC)
MONTH = this_month(NOW)


async def case_id(pool: asyncpg.Pool) -> int:
    cid: int = await pool.fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", CASES[0][0])
    return cid


async def old_search(pool: asyncpg.Pool, cid: int, at: datetime, *, task_status: str = "succeeded",
                     ticket: str | None = None, agency: str = "banks") -> uuid.UUID:
    """A search made at ``at`` (months ago, say) with one task and one event of that time."""
    sid = uuid.uuid4()
    running = task_status in ("queued", "running", "waiting")
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """INSERT INTO search (id, case_id, subject_kind, subject_id_number, subject_name, subject_key, purpose,
                                   requested_by, request_no, case_number, court_code, judge_name, judge_officer_id,
                                   document_number, status, created_at, completed_at)
               SELECT $1::uuid, c.id, 'person', '110101199003071234', '张三', 'person:110101199003071234', '财产调查',
                      'zhangwei', left(replace($1::uuid::text, '-', ''), 20), c.case_number, c.court_code, '张伟',
                      '2101020031', '（2024）辽0102执协查00001号', $3::text, $2::timestamptz,
                      CASE WHEN $3::text = 'completed' THEN $2::timestamptz END
               FROM enforcement_case c WHERE c.id = $4""",
            sid, at, "running" if running else "completed", cid)
        await conn.execute(
            """INSERT INTO agency_task (search_id, agency, idempotency_key, deadline_at, status, ticket, created_at,
                                        finished_at)
               VALUES ($1::uuid, $4::text, $1::uuid::text || ':' || $4::text, $2::timestamptz + interval '1 day',
                       $3::text, $5::text, $2::timestamptz,
                       CASE WHEN $3::text IN ('queued', 'running', 'waiting') THEN NULL ELSE $2::timestamptz END)""",
            sid, at, task_status, agency, ticket)
        await conn.execute(
            "INSERT INTO search_event (search_id, agency, kind, payload, created_at) VALUES ($1, $3, 'task', '{}', $2)",
            sid, at, agency)
    return sid


def mid(month: date) -> datetime:
    return datetime(month.year, month.month, 15, 12, tzinfo=UTC)


async def partition_names(pool: asyncpg.Pool) -> set[str]:
    rows = await pool.fetch(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent IN ('agency_task'::regclass, 'search_event'::regclass)""")
    return {r[0] for r in rows}


async def where(pool: asyncpg.Pool, table: str, search_id: uuid.UUID) -> list[str]:
    rows = await pool.fetch(f"SELECT tableoid::regclass::text FROM {table} WHERE search_id = $1", search_id)
    return [r[0] for r in rows]


def p(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


async def test_the_migration_made_both_tables_partitioned_with_this_and_the_coming_months(pool: asyncpg.Pool) -> None:
    kinds = dict(await pool.fetch(
        "SELECT relname, relkind::text FROM pg_class WHERE relname IN ('agency_task', 'search_event')"))
    assert kinds == {"agency_task": "p", "search_event": "p"}
    names = await partition_names(pool)
    for table in partitions.PARTITIONED:
        assert f"{table}_default" in names
        for k in range(partitions.MONTHS_AHEAD + 1):
            assert p(table, add_months(MONTH, k)) in names
    # the id sequences are the tables' own, as before
    assert await pool.fetchval("SELECT pg_get_serial_sequence('agency_task', 'id')") == "public.agency_task_id_seq"
    assert await pool.fetchval("SELECT pg_get_serial_sequence('search_event', 'id')") == "public.search_event_id_seq"


async def test_ensure_ahead_creates_the_coming_months_once(pool: asyncpg.Pool) -> None:
    later = NOW + timedelta(days=400)  # a process that ran a year and more without a restart
    async with pool.acquire() as conn:
        created = await ensure_ahead(conn, 2, now=later)
        again = await ensure_ahead(conn, 2, now=later)
    first = this_month(later)
    expected = {p(t, add_months(first, k)) for t in partitions.PARTITIONED for k in range(3)}
    assert set(created) == expected
    assert again == []
    assert expected <= await partition_names(pool)


async def test_a_row_the_default_partition_took_moves_into_its_month_when_that_is_created(pool: asyncpg.Pool) -> None:
    await seed(pool)
    cid = await case_id(pool)
    far = add_months(MONTH, 20)  # no partition yet: the default partition takes the rows
    sid = await old_search(pool, cid, mid(far), task_status="waiting", ticket="T-FAR")
    assert await where(pool, "agency_task", sid) == ["agency_task_default"]
    assert await where(pool, "search_event", sid) == ["search_event_default"]
    async with pool.acquire() as conn:
        await ensure_ahead(conn, 0, now=mid(far))
    assert await where(pool, "agency_task", sid) == [p("agency_task", far)]
    assert await where(pool, "search_event", sid) == [p("search_event", far)]
    # its ticket is still the agency's, once
    assert await pool.fetchval("SELECT count(*) FROM agency_ticket WHERE ticket = 'T-FAR'") == 1
    with pytest.raises(asyncpg.UniqueViolationError):
        await old_search(pool, cid, mid(MONTH), task_status="waiting", ticket="T-FAR")


async def test_retention_drops_whole_expired_finished_partitions_only(pool: asyncpg.Pool) -> None:
    await seed(pool)
    cid = await case_id(pool)
    finished_month, unfinished_month = add_months(MONTH, -30), add_months(MONTH, -28)
    young_month = add_months(MONTH, -6)
    async with pool.acquire() as conn:
        for table in partitions.PARTITIONED:
            await conn.execute("SELECT ensure_month_partitions($1::regclass, $2, $3)", table, finished_month,
                               young_month)
    finished = await old_search(pool, cid, mid(finished_month), ticket="T-OLD")
    unfinished = await old_search(pool, cid, mid(unfinished_month), task_status="waiting", ticket="T-WAIT")
    young = await old_search(pool, cid, mid(young_month))
    in_default = await old_search(pool, cid, mid(add_months(MONTH, -40)))  # no partition of its month
    recent = await old_search(pool, cid, NOW)
    assert await where(pool, "agency_task", in_default) == ["agency_task_default"]

    async with pool.acquire() as conn:
        result = await drop_expired(conn, task_months=24, event_months=24)

    dropped = {x.name for x in result.dropped}
    # every month before the cut-off with nothing unfinished, the finished search's among them
    assert {p("agency_task", finished_month), p("search_event", finished_month)} <= dropped
    assert p("agency_task", unfinished_month) not in dropped
    assert p("search_event", unfinished_month) not in dropped  # its search is still running
    assert {x.name for x, _ in result.kept} == {p("agency_task", unfinished_month), p("search_event", unfinished_month)}
    names = await partition_names(pool)
    assert not dropped & names
    for name in dropped:  # gone from the catalog, not emptied
        assert await pool.fetchval("SELECT to_regclass($1)", name) is None
    # the rows went with their partition; everything else is where it was
    assert await where(pool, "agency_task", finished) == []
    assert await where(pool, "search_event", finished) == []
    assert await pool.fetchval("SELECT count(*) FROM agency_ticket WHERE ticket = 'T-OLD'") == 0
    assert await where(pool, "agency_task", unfinished) == [p("agency_task", unfinished_month)]
    assert await where(pool, "agency_task", young) == [p("agency_task", young_month)]
    assert await where(pool, "agency_task", in_default) == ["agency_task_default"]
    assert await where(pool, "agency_task", recent) == [p("agency_task", MONTH)]
    # the search itself, its answers and records are the system of record: kept
    assert await pool.fetchval("SELECT count(*) FROM search WHERE id = $1", finished) == 1
    # a second run drops nothing more and keeps the unfinished month again
    async with pool.acquire() as conn:
        again = await drop_expired(conn, task_months=24, event_months=24)
    assert again.dropped == ()
    async with pool.acquire() as conn:
        listed = {x.name: x.rows for x in await list_partitions(conn)}
    assert listed["agency_task_default"] == 1 and listed[p("agency_task", unfinished_month)] == 1


async def test_one_task_per_search_and_agency_and_one_per_ticket_hold_across_partitions(pool: asyncpg.Pool) -> None:
    await seed(pool)
    cid = await case_id(pool)
    sid = await old_search(pool, cid, NOW, task_status="waiting", ticket="T-1")
    # the same search's task for the same agency again: refused, as by the old UNIQUE (idempotency_key)
    with pytest.raises(asyncpg.UniqueViolationError):
        await pool.execute(
            """INSERT INTO agency_task (search_id, agency, idempotency_key, deadline_at, created_at)
               SELECT id, 'banks', id::text || ':banks', now(), created_at FROM search WHERE id = $1""", sid)
    # a task cannot claim another time than its search's (which is what makes the key unique)
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await pool.execute(
            """INSERT INTO agency_task (search_id, agency, idempotency_key, deadline_at, created_at)
               SELECT id, 'vehicles', id::text || ':vehicles', now(), created_at - interval '40 days'
               FROM search WHERE id = $1""", sid)
    # the same agency ticket on a task of another month: refused, as by the old unique index
    with pytest.raises(asyncpg.UniqueViolationError):
        await old_search(pool, cid, mid(add_months(MONTH, 1)), task_status="waiting", ticket="T-1")
    # another agency may use the same ticket text; a changed ticket frees the old one
    await old_search(pool, cid, NOW, task_status="waiting", ticket="T-1", agency="vehicles")
    await pool.execute("UPDATE agency_task SET ticket = 'T-2' WHERE search_id = $1", sid)
    await old_search(pool, cid, NOW, task_status="waiting", ticket="T-1")
    assert dict(await pool.fetch("SELECT ticket, count(*) FROM agency_ticket GROUP BY ticket")) == {"T-1": 2, "T-2": 1}


async def test_the_search_api_answers_for_a_recent_search_after_retention(make_api: Any, pool: asyncpg.Pool) -> None:
    api = await make_api()
    cid = await case_id(pool)
    old_month = add_months(MONTH, -30)
    for table in partitions.PARTITIONED:
        await pool.execute("SELECT ensure_month_partitions($1::regclass, $2, $2)", table, old_month)
    old = await old_search(pool, cid, mid(old_month))
    debtor = CASES[0][-1][0]
    status, accepted = await api.request("POST", "/api/v1/searches", login="zhangwei", json={
        "case_id": cid, "subject": {"kind": debtor.kind, "id_number": debtor.id_number, "name": debtor.name}})
    assert status == 202, accepted
    done = await api.wait_search(accepted["id"], "zhangwei")
    async with pool.acquire() as conn:
        result = await drop_expired(conn, task_months=12, event_months=12)
    assert p("agency_task", old_month) in {x.name for x in result.dropped}
    assert await where(pool, "agency_task", old) == []
    status, view = await api.request("GET", f"/api/v1/searches/{accepted['id']}", login="zhangwei")
    assert status == 200
    assert view["status"] == "completed" and view["agencies"] == done["agencies"]
    assert view["dossier"] == done["dossier"]


async def test_the_command_lists_drops_and_audits_as_an_operator(
    db_url: str, pool: asyncpg.Pool, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from enforcement.commands.db import _partitions
    from enforcement.kernel.settings import Settings

    await seed(pool)
    cid = await case_id(pool)
    old_month = add_months(MONTH, -80)
    for table in partitions.PARTITIONED:
        await pool.execute("SELECT ensure_month_partitions($1::regclass, $2, $2)", table, old_month)
    old = await old_search(pool, cid, mid(old_month))
    settings = Settings(database_url=db_url, data_dir=tmp_path)
    # too short a retention for the case records: refused, nothing dropped, nothing audited
    short = Settings(database_url=db_url, data_dir=tmp_path, task_retention_months=12)
    assert await _partitions(short, drop_expired=True, operator="ops") == 2
    assert await where(pool, "agency_task", old) == [p("agency_task", old_month)]
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'retention_drop'") == 0

    assert await _partitions(settings, drop_expired=True, operator="ops") == 0
    out = capsys.readouterr().out
    assert f"dropped {p('agency_task', old_month)} (1 rows)" in out
    assert "agency_task_default" in out and p("agency_task", MONTH) in out
    assert await where(pool, "agency_task", old) == []
    records = await pool.fetch("SELECT * FROM audit_log WHERE action = 'retention_drop' ORDER BY id")
    assert {r["target"] for r in records} == {p("agency_task", old_month), p("search_event", old_month)}
    for r in records:
        assert r["actor_login"] == "ops" and r["actor_role"] == "operator"
        details = r["details"] if isinstance(r["details"], dict) else json.loads(r["details"])
        assert details["rows"] == 1 and details["month"] == old_month.isoformat()


async def test_a_drop_whose_record_cannot_be_written_does_not_happen(pool: asyncpg.Pool) -> None:
    await seed(pool)
    cid = await case_id(pool)
    old_month = add_months(MONTH, -30)
    await pool.execute("SELECT ensure_month_partitions('agency_task'::regclass, $1, $1)", old_month)
    old = await old_search(pool, cid, mid(old_month))

    async def failing(_conn: Any, _part: partitions.Partition) -> None:
        raise RuntimeError("the audit log is away")

    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            await drop_expired(conn, task_months=24, event_months=24, record=failing)
    assert await where(pool, "agency_task", old) == [p("agency_task", old_month)]
