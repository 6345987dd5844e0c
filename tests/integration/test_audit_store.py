"""The audit chain in PostgreSQL: appends commit or roll back with their transaction, concurrent
writers never fork the chain, the table refuses updates, and tampering by a superuser (triggers
off) anywhere in the chain is found by ``enforcement audit verify``."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from typing import Any

import asyncpg
import pytest

from enforcement.domain.audit import AuditEntry, canonical
from enforcement.store.audit import AuditKeyMismatch, AuditLog

KEY = b"integration-test-audit-chain-key-0123456789"
AUDIT = AuditLog(KEY)


def entry(i: int, **extra: Any) -> AuditEntry:
    return AuditEntry(action="dossier_read", actor_login="zhangwei", actor_role="judge", actor_court="辽0102",
                      case_id=i, case_number=f"（2026）辽0102执{i}号", case_court="辽0102",
                      subject_key="person:210102197805141357", purpose="财产调查", target=f"search-{i}",
                      request_id=f"req-{i}", details={"via": "view", "i": i, **extra})


async def fill(pool: asyncpg.Pool, n: int) -> None:
    for i in range(1, n + 1):
        await AUDIT.record(pool, entry(i))


async def verify(pool: asyncpg.Pool) -> Any:
    async with pool.acquire() as conn:
        return await AUDIT.verify(conn, prefetch=3)  # small prefetch: the cursor really streams


async def as_superuser(pool: asyncpg.Pool, *statements: str) -> None:
    """Tamper as a superuser would: with the append-only triggers switched off."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        for sql in statements:
            await conn.execute(sql)


async def test_records_commit_and_roll_back_with_their_transaction(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await AUDIT.append(conn, entry(1))
                raise RuntimeError("the action failed")
    assert await pool.fetchval("SELECT count(*) FROM audit_log") == 0
    assert await pool.fetchval("SELECT seq FROM audit_chain_head") == 0
    async with pool.acquire() as conn, conn.transaction():
        rec = await AUDIT.append(conn, entry(1))
    assert rec.seq == 1
    stored = await pool.fetchrow("SELECT * FROM audit_log")
    assert stored["hash"] == rec.hash and stored["subject_key"] == "person:210102197805141357"
    assert (await verify(pool)).ok


async def test_concurrent_writers_extend_one_chain(pool: asyncpg.Pool) -> None:
    await asyncio.gather(*(AUDIT.record(pool, entry(i)) for i in range(1, 61)))
    rows = await pool.fetch("SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq")
    assert [r["seq"] for r in rows] == list(range(1, 61))
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))
    assert len({r["prev_hash"] for r in rows}) == 60  # no two records claim the same predecessor: no fork
    result = await verify(pool)
    assert result.ok and result.checked == 60


async def test_the_table_refuses_updates_deletes_and_truncation(pool: asyncpg.Pool) -> None:
    await fill(pool, 2)
    for sql in ("UPDATE audit_log SET actor_login = 'x' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 2",
                "TRUNCATE audit_log"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await pool.execute(sql)
    assert await pool.fetchval("SELECT count(*) FROM audit_log") == 2


@pytest.mark.parametrize("seq", [1, 4, 8])
async def test_a_changed_record_is_named(pool: asyncpg.Pool, seq: int) -> None:
    await fill(pool, 8)
    await as_superuser(pool, f"UPDATE audit_log SET purpose = '下落查找' WHERE seq = {seq}")
    result = await verify(pool)
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (seq, "content_changed")


async def test_a_changed_subject_or_time_is_named(pool: asyncpg.Pool) -> None:
    await fill(pool, 5)
    await as_superuser(pool, "UPDATE audit_log SET subject_key = 'person:110101199003070011' WHERE seq = 2")
    assert (await verify(pool)).broken.seq == 2  # type: ignore[union-attr]
    await as_superuser(pool, "UPDATE audit_log SET subject_key = 'person:210102197805141357' WHERE seq = 2",
                       "UPDATE audit_log SET at = at + interval '1 microsecond' WHERE seq = 3")
    assert (await verify(pool)).broken.seq == 3  # type: ignore[union-attr]


@pytest.mark.parametrize(("seq", "first_broken", "reason"), [(1, 2, "record_missing"), (5, 6, "record_missing"),
                                                             (8, 8, "head_mismatch")])
async def test_a_deleted_record_is_named(pool: asyncpg.Pool, seq: int, first_broken: int, reason: str) -> None:
    await fill(pool, 8)
    await as_superuser(pool, f"DELETE FROM audit_log WHERE seq = {seq}")
    result = await verify(pool)
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (first_broken, reason)


async def test_a_cut_off_tail_is_caught_by_the_head_or_by_an_anchor(pool: asyncpg.Pool) -> None:
    """The superuser deletes the last records and moves the head back. If he leaves the head's hash,
    the head gives him away; if he copies the new last hash too, the chain alone is intact but
    shorter, and only a head kept outside the database (``audit head`` -> ``verify --anchor``) shows it."""
    await fill(pool, 6)
    anchor = {6: await pool.fetchval("SELECT hash FROM audit_chain_head")}
    await as_superuser(pool, "DELETE FROM audit_log WHERE seq > 4", "UPDATE audit_chain_head SET seq = 4")
    result = await verify(pool)
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (4, "head_mismatch")
    await as_superuser(pool, "UPDATE audit_chain_head SET hash = (SELECT hash FROM audit_log WHERE seq = 4)")
    assert (await verify(pool)).ok
    async with pool.acquire() as conn:
        result = await AUDIT.verify(conn, anchors=anchor)
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (5, "anchor_missing")


@pytest.mark.parametrize("after", [0, 3, 6])
async def test_an_inserted_record_is_named(pool: asyncpg.Pool, after: int) -> None:
    """A forged record inserted after record ``after``, later records renumbered, the forged record
    linked to its predecessor and hashed with plain SHA-256 (the forger lacks the key)."""
    import hashlib

    await fill(pool, 6)
    prev = await pool.fetchval("SELECT hash FROM audit_log WHERE seq = $1", after) if after else "0" * 64
    at = await pool.fetchval("SELECT now()")
    forged = entry(99)
    forged_hash = hashlib.sha256((prev + "\n" + canonical(after + 1, at, forged)).encode()).hexdigest()
    await as_superuser(
        pool,
        f"UPDATE audit_log SET seq = -seq WHERE seq > {after}",
        "UPDATE audit_log SET seq = -seq + 1 WHERE seq < 0",
        f"""INSERT INTO audit_log (seq, at, action, actor_login, actor_role, actor_court, case_id, case_number,
                                   case_court, subject_key, purpose, target, request_id, details, prev_hash, hash)
            VALUES ({after + 1}, '{at.isoformat()}', 'dossier_read', 'zhangwei', 'judge', '辽0102', 99,
                    '（2026）辽0102执99号', '辽0102', 'person:210102197805141357', '财产调查', 'search-99', 'req-99',
                    '{{"via": "view", "i": 99}}', '{prev}', '{forged_hash}')""",
        "UPDATE audit_chain_head SET seq = seq + 1",
    )
    result = await verify(pool)
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (after + 1, "content_changed")


async def test_a_record_appended_at_the_end_is_named(pool: asyncpg.Pool) -> None:
    await fill(pool, 3)
    prev = await pool.fetchval("SELECT hash FROM audit_log WHERE seq = 3")
    await as_superuser(pool, f"""INSERT INTO audit_log (seq, at, action, actor_login, actor_role, request_id,
                                      prev_hash, hash)
                                  VALUES (4, now(), 'search', 'ghost', 'judge', 'x', '{prev}', '{"f" * 64}')""",
                       f"UPDATE audit_chain_head SET seq = 4, hash = '{'f' * 64}'")
    result = await verify(pool)
    assert result.broken is not None and (result.broken.seq, result.broken.reason) == (4, "content_changed")


async def test_another_key_neither_appends_nor_verifies(pool: asyncpg.Pool) -> None:
    await fill(pool, 2)
    other = AuditLog(b"another-key-another-key-another-key!!")
    with pytest.raises(AuditKeyMismatch):
        await other.record(pool, entry(3))
    async with pool.acquire() as conn:
        result = await other.verify(conn)
    assert result.broken is not None and result.broken.reason == "wrong_key"


async def _cli(db_url: str, tmp_path: Any, *args: str) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": db_url, "AUDIT_CHAIN_KEY": KEY.decode(), "ENFORCEMENT_DATA_DIR": str(tmp_path)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "enforcement.cli", "audit", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode() + err.decode()


async def test_the_cli_verifies_and_names_the_first_broken_record(pool: asyncpg.Pool, db_url: str,
                                                                  tmp_path: Any) -> None:
    await fill(pool, 5)
    code, out = await _cli(db_url, tmp_path, "verify")
    assert code == 0, out
    assert "intact" in out and "5 records" in out
    code, head = await _cli(db_url, tmp_path, "head")
    assert code == 0 and head.strip().startswith("5:"), head
    code, out = await _cli(db_url, tmp_path, "verify", "--anchor", head.strip())
    assert code == 0, out
    await as_superuser(pool, "UPDATE audit_log SET actor_login = 'lina' WHERE seq = 3",
                       "DELETE FROM audit_log WHERE seq = 5")
    code, out = await _cli(db_url, tmp_path, "verify")
    assert code == 1, out
    assert "BROKEN at record 3" in out and "content_changed" in out
