"""References checked by construction (migration 0027, decision 1925): ``dangling_references``
counts, for each foreign key the migration dropped, the rows that point at nothing; a sound
database has none, each kind of dangling row is found and counted, and ``enforcement db check``
says so in both languages and exits 1 (0 when sound)."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from enforcement.kernel.integrity import dangling_references
from enforcement.seeds import CASES, seed

GONE_SEARCH = uuid.UUID(int=7)
GONE_ANSWER = 9_000_000_001
GONE_CASE = 9_000_000_002


async def _counts(pool: asyncpg.Pool) -> dict[tuple[str, str], int]:
    return {(d.child, d.reference): d.rows for d in await dangling_references(pool)}


async def _cli_check(db_url: str, tmp_path: Path) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": db_url, "ENFORCEMENT_DATA_DIR": str(tmp_path)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "enforcement.cli", "db", "check", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_a_sound_database_has_no_dangling_reference(pool: asyncpg.Pool, db_url: str, tmp_path: Path) -> None:
    await seed(pool)
    counts = await _counts(pool)
    assert len(counts) == 5
    assert set(counts.values()) == {0}
    status, out = await _cli_check(db_url, tmp_path)
    assert status == 0, out
    assert "every reference holds / 引用完整" in out


async def test_each_dangling_reference_is_found_and_counted(pool: asyncpg.Pool, db_url: str, tmp_path: Path) -> None:
    await seed(pool)
    case_id = await pool.fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", CASES[0][0])
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        # a task whose answer is not stored
        search_id, created_at = await conn.fetchrow(
            """INSERT INTO search (id, case_id, subject_kind, subject_id_number, subject_name, subject_key, purpose,
                                   requested_by, request_no, case_number, court_code, judge_name, judge_officer_id,
                                   document_number, status, completed_at)
               SELECT gen_random_uuid(), c.id, 'person', '110101199003071234', '张三', 'person:110101199003071234',
                      '财产调查', 'zhangwei', 'R1', c.case_number, c.court_code, '张伟', '2101020031',
                      '（2026）辽0102执协查00001号', 'completed', now()
               FROM enforcement_case c WHERE c.id = $1 RETURNING id, created_at""", case_id)
        await conn.execute(
            """INSERT INTO agency_task (search_id, agency, idempotency_key, deadline_at, status, answer_id, created_at)
               VALUES ($1::uuid, 'vehicles', $1::uuid::text || ':vehicles', $2, 'succeeded', $3, $2)""",
            search_id, created_at, GONE_ANSWER)
        # an answer of no search, a record of no answer, a first sighting of no case, an event of no search
        answer_id = await conn.fetchval(
            """INSERT INTO agency_answer (task_id, search_id, case_id, agency, subject_key, raw, record_count,
                                          answered_at)
               VALUES (1, $1, $2, 'vehicles', 'person:x', '{}', 0, $3) RETURNING id""", GONE_SEARCH, case_id, now)
        assert answer_id != GONE_ANSWER
        await conn.execute(
            """INSERT INTO asset_record (answer_id, agency, subject_key, kind, natural_key, data, observed_at)
               VALUES ($1, 'vehicles', 'person:x', 'vehicle', '辽A00001', '{}', $2)""", GONE_ANSWER, now)
        await conn.execute(
            """INSERT INTO subject_asset (case_id, subject_key, kind, natural_key, first_seen_search_id, first_seen_at)
               VALUES ($1, 'person:x', 'vehicle', '辽A00001', $2, $3)""", GONE_CASE, GONE_SEARCH, now)
        await conn.execute("INSERT INTO search_event (search_id, agency, kind, payload) VALUES ($1, NULL, 'x', '{}')",
                           GONE_SEARCH)
    counts = await _counts(pool)
    assert counts == {
        ("agency_task", "agency_answer (answer_id)"): 1,
        ("agency_answer", "search (search_id)"): 1,
        ("asset_record", "agency_answer (answer_id)"): 1,
        ("subject_asset", "enforcement_case (case_id)"): 1,
        ("search_event", "search (search_id)"): 1,
    }
    status, out = await _cli_check(db_url, tmp_path)
    assert status == 1, out
    assert "5 rows point at nothing / 5 行引用缺失" in out
    assert "asset_record" in out
