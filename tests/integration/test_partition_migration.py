"""Migration 0021 on a database written before it: every task and event is copied into its
month's partition (ids kept, the sequences go on from where they were), the tickets are
registered once, the answers keep their rows though their key to the task is gone, and the
invariants hold on the copied rows."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from enforcement.kernel.migrate import MIGRATIONS_DIR, apply_migrations
from enforcement.kernel.partitions import add_months, this_month
from enforcement.kernel.pool import create_pool
from enforcement.seeds import seed
from tests.pg import with_database


async def test_rows_written_before_0021_land_in_their_months(pg_admin: tuple[str, Any], tmp_path: Path) -> None:
    admin_dsn, _ = pg_admin
    name = f"m_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        before = tmp_path / "before"
        before.mkdir()
        for path in MIGRATIONS_DIR.glob("*.sql"):
            if int(path.name[:4]) < 21:
                shutil.copy(path, before / path.name)
        dsn = with_database(admin_dsn, name)
        conn = await asyncpg.connect(dsn)
        try:
            await apply_migrations(conn, before)
            pool = await create_pool(dsn, min_size=1, max_size=2)
            await seed(pool)
            await pool.close()
            month = this_month()
            old = add_months(month, -14)
            for k, m in enumerate((old, month)):
                at = datetime(m.year, m.month, m.day, 12, tzinfo=UTC)
                sid = uuid.uuid4()
                await conn.execute(
                    """INSERT INTO search (id, case_id, subject_kind, subject_id_number, subject_name, subject_key,
                                           purpose, requested_by, request_no, case_number, court_code, judge_name,
                                           judge_officer_id, document_number, status, created_at)
                       SELECT $1::uuid, c.id, 'person', '110101199003071234', '张三', 'person:110101199003071234',
                              '财产调查', 'zhangwei', 'R' || $3::int, c.case_number, c.court_code, '张伟',
                              '2101020031', 'doc', 'running', $2::timestamptz
                       FROM enforcement_case c ORDER BY c.id LIMIT 1""", sid, at, k)
                await conn.execute(
                    """INSERT INTO agency_task (search_id, agency, idempotency_key, deadline_at, status, ticket,
                                                created_at)
                       VALUES ($1::uuid, 'banks', $1::uuid::text || ':banks', now(), 'waiting', $3::text,
                               $2::timestamptz)""", sid, at, f"T-{k}")
                await conn.execute(
                    """INSERT INTO agency_answer (task_id, search_id, case_id, agency, subject_key, raw, record_count,
                                                  answered_at)
                       SELECT t.id, t.search_id, s.case_id, 'banks', s.subject_key, '{}', 0, now()
                       FROM agency_task t JOIN search s ON s.id = t.search_id WHERE t.search_id = $1""", sid)
                await conn.execute(
                    "INSERT INTO search_event (search_id, agency, kind, payload, created_at) "
                    "VALUES ($1, 'banks', 'task', '{}', $2::timestamptz)", sid, at)
            tasks = [tuple(r) for r in await conn.fetch(
                "SELECT id, search_id, created_at FROM agency_task ORDER BY id")]
            events = [tuple(r) for r in await conn.fetch("SELECT id, search_id FROM search_event ORDER BY id")]

            assert 21 in await apply_migrations(conn)

            placed = await conn.fetch("SELECT id, tableoid::regclass::text AS part FROM agency_task ORDER BY id")
            assert [r["part"] for r in placed] == [f"agency_task_p{old:%Y%m}", f"agency_task_p{month:%Y%m}"]
            assert [tuple(r) for r in await conn.fetch(
                "SELECT id, search_id, created_at FROM agency_task ORDER BY id")] == tasks
            assert [tuple(r) for r in await conn.fetch("SELECT id, search_id FROM search_event ORDER BY id")] == events
            assert await conn.fetchval("SELECT count(*) FROM agency_task_default") == 0
            assert await conn.fetchval("SELECT count(*) FROM agency_answer") == 2
            assert [tuple(r) for r in await conn.fetch(
                "SELECT agency, ticket, task_id FROM agency_ticket ORDER BY task_id")] == [
                ("banks", "T-0", tasks[0][0]), ("banks", "T-1", tasks[1][0])]
            # the sequences go on from where they were
            assert await conn.fetchval("SELECT nextval('agency_task_id_seq')") == tasks[-1][0] + 1
            assert await conn.fetchval("SELECT nextval('search_event_id_seq')") == events[-1][0] + 1
            # and the copied rows keep the old invariants
            with pytest.raises(asyncpg.UniqueViolationError):
                await conn.execute(
                    """INSERT INTO agency_task (search_id, agency, idempotency_key, deadline_at, created_at)
                       SELECT id, 'banks', id::text || ':banks', now(), created_at FROM search WHERE id = $1""",
                    tasks[0][1])
            with pytest.raises(asyncpg.UniqueViolationError):
                await conn.execute("UPDATE agency_task SET ticket = 'T-0' WHERE id = $1", tasks[1][0])
        finally:
            await conn.close()
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()
