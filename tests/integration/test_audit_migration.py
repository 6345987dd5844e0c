"""Migration 0008 (the audit sequencer) on a database with records chained the 0402 way: they keep
their places and hashes, get ``id = seq``, and new records continue the same chain."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from enforcement.domain.audit import GENESIS_HASH, AuditEntry, seal
from enforcement.kernel.audit import AuditLog, key_id
from enforcement.kernel.migrate import MIGRATIONS_DIR, apply_migrations
from enforcement.kernel.pool import create_pool
from tests.pg import with_database

KEY = b"migration-test-audit-chain-key-0123456789"


def entry(i: int) -> AuditEntry:
    return AuditEntry(action="search", actor_login="zhangwei", actor_role="judge", actor_court="辽0102",
                      case_id=i, case_number=f"（2026）辽0102执{i}号", case_court="辽0102",
                      subject_key="person:210102197805141357", purpose="财产调查", target=f"search-{i}",
                      request_id=f"req-{i}", details={"i": i})


async def test_records_chained_before_0008_keep_their_chain(pg_admin: tuple[str, Any], tmp_path: Path) -> None:
    admin_dsn, _ = pg_admin
    name = f"m_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        before = tmp_path / "before"
        before.mkdir()
        for path in MIGRATIONS_DIR.glob("*.sql"):
            if int(path.name[:4]) < 8:
                shutil.copy(path, before / path.name)
        conn = await asyncpg.connect(with_database(admin_dsn, name))
        try:
            await apply_migrations(conn, before)
            # Five records as 0402 appended them: sealed under the head, inserted with seq and hashes.
            seq, prev = 0, GENESIS_HASH
            t0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
            for i in range(1, 6):
                rec = seal(KEY, seq, prev, t0 + timedelta(seconds=i), entry(i))
                e = rec.entry
                await conn.execute(
                    """INSERT INTO audit_log (seq, at, action, actor_login, actor_role, actor_court, case_id,
                                              case_number, case_court, subject_key, purpose, reason, target,
                                              request_id, details, prev_hash, hash)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::text::jsonb, $16,
                               $17)""",
                    rec.seq, rec.at, e.action, e.actor_login, e.actor_role, e.actor_court, e.case_id, e.case_number,
                    e.case_court, e.subject_key, e.purpose, e.reason, e.target, e.request_id, f'{{"i": {i}}}',
                    rec.prev_hash, rec.hash)
                seq, prev = rec.seq, rec.hash
            await conn.execute("UPDATE audit_chain_head SET seq = $1, hash = $2, key_id = $3", seq, prev, key_id(KEY))
            applied = await apply_migrations(conn)
            assert applied[0] == 8 and applied == sorted(applied)  # 0008 now, then any later ones
        finally:
            await conn.close()

        pool = await create_pool(with_database(admin_dsn, name), min_size=1, max_size=2)
        try:
            audit = AuditLog(KEY)
            assert [tuple(r) for r in await pool.fetch("SELECT id, seq FROM audit_log ORDER BY id")] == [
                (i, i) for i in range(1, 6)]
            async with pool.acquire() as c:
                result = await audit.verify(c)
            assert result.ok and result.checked == 5
            new = await audit.record(pool, entry(6))
            assert new == 6  # ids continue after the records chained before
            assert (await audit.chain_pending(pool)).chained == 1
            assert await pool.fetchval("SELECT prev_hash FROM audit_log WHERE seq = 6") == prev
            async with pool.acquire() as c:
                result = await audit.verify(c)
            assert result.ok and result.checked == 6
        finally:
            await pool.close()
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()
