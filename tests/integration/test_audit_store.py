"""The audit chain in PostgreSQL: records commit or roll back with their transaction and are
chained a moment later by one chainer at a time; concurrent writers and chainers never fork the
chain; the table refuses updates (but the chainer's); tampering by a superuser (triggers off)
anywhere in the chain is found by ``enforcement audit verify``, and so are records that wait too
long for their place in the chain, or that the service did not write."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from typing import Any

import asyncpg
import pytest

from enforcement.domain.audit import AuditEntry, canonical
from enforcement.kernel.audit import AuditKeyMismatch, AuditLog

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
    await chain(pool)


async def chain(pool: asyncpg.Pool, audit: AuditLog = AUDIT) -> int:
    """Chain every record waiting, as the service's chainers do."""
    done = await audit.chain_pending(pool)
    assert not done.busy and not done.more
    return done.chained


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
        record_id = await AUDIT.append(conn, entry(1))
    # Committed with the action, whole and signed by its writer, not yet in the chain.
    stored = await pool.fetchrow("SELECT * FROM audit_log")
    assert stored is not None and stored["id"] == record_id and stored["subject_key"] == "person:210102197805141357"
    assert (stored["seq"], stored["prev_hash"], stored["hash"]) == (None, None, None) and len(stored["mac"]) == 64
    assert await chain(pool) == 1
    stored = await pool.fetchrow("SELECT * FROM audit_log")
    assert stored is not None and stored["seq"] == 1 and stored["prev_hash"] == "0" * 64
    assert (await pool.fetchrow("SELECT seq, hash FROM audit_chain_head")) == (1, stored["hash"])
    result = await verify(pool)
    assert result.ok and result.checked == 1 and result.backlog.pending == 0


async def test_concurrent_writers_and_chainers_extend_one_chain(pool: asyncpg.Pool) -> None:
    """60 writers at once, while three chainers (as in three processes) chain as they go, plus
    chainer rounds called directly: one chain, no fork, no record twice, none left out."""
    from enforcement.kernel.audit_chainer import AuditChainer

    chainers = [AuditChainer(AUDIT, pool, interval_seconds=0.05, busy_retry_seconds=0.005) for _ in range(3)]
    running = [asyncio.create_task(c.run()) for c in chainers]
    try:
        async def write(i: int) -> None:
            await AUDIT.record(pool, entry(i))
            for c in chainers:
                c.wake()

        await asyncio.gather(*(write(i) for i in range(1, 61)),
                             *(AUDIT.chain_pending(pool, limit=7) for _ in range(10)))
        async with asyncio.timeout(10):
            await chainers[0].drain()
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    rows = await pool.fetch("SELECT seq, prev_hash, hash, details->>'i' AS i FROM audit_log ORDER BY seq")
    assert [r["seq"] for r in rows] == list(range(1, 61))
    assert sorted(int(r["i"]) for r in rows) == list(range(1, 61))
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))
    assert len({r["prev_hash"] for r in rows}) == 60  # no two records claim the same predecessor: no fork
    assert sum(c.chained for c in chainers) <= 60
    result = await verify(pool)
    assert result.ok and result.checked == 60 and result.backlog.pending == 0


async def test_the_table_refuses_updates_deletes_and_truncation(pool: asyncpg.Pool) -> None:
    await fill(pool, 2)
    waiting = await AUDIT.record(pool, entry(3))
    for sql in ("UPDATE audit_log SET actor_login = 'x' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 2",
                "TRUNCATE audit_log",
                # chained records keep their place
                "UPDATE audit_log SET seq = 7 WHERE seq = 2", "UPDATE audit_log SET hash = prev_hash WHERE seq = 2",
                # a record waiting to be chained: its content is as final as a chained one's
                f"UPDATE audit_log SET purpose = '下落查找' WHERE id = {waiting}",
                f"UPDATE audit_log SET at = at - interval '1 day' WHERE id = {waiting}",
                f"UPDATE audit_log SET mac = NULL WHERE id = {waiting}",
                f"DELETE FROM audit_log WHERE id = {waiting}",
                # the chainer's update, but with a change of content
                f"UPDATE audit_log SET seq = 3, prev_hash = 'x', hash = 'y', target = 'z' WHERE id = {waiting}"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await pool.execute(sql)
    with pytest.raises(asyncpg.CheckViolationError):  # seq, prev_hash and hash are set together
        await pool.execute(f"UPDATE audit_log SET seq = 3 WHERE id = {waiting}")
    assert await pool.fetchval("SELECT count(*) FROM audit_log") == 3
    assert await chain(pool) == 1
    assert (await verify(pool)).ok


async def test_a_copy_of_a_record_is_refused(pool: asyncpg.Pool) -> None:
    """Someone with write access copies a record (content and writer's signature) to have it
    chained again: the signature is unique, the copy is refused."""
    await fill(pool, 1)
    await AUDIT.record(pool, entry(2))
    for which in ("seq = 1", "seq IS NULL"):
        with pytest.raises(asyncpg.UniqueViolationError):
            await pool.execute(f"""INSERT INTO audit_log (at, action, actor_login, actor_role, actor_court, case_id,
                                       case_number, case_court, subject_key, purpose, reason, target, request_id,
                                       details, mac)
                                   SELECT at, action, actor_login, actor_role, actor_court, case_id, case_number,
                                          case_court, subject_key, purpose, reason, target, request_id, details, mac
                                   FROM audit_log WHERE {which}""")


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


async def test_another_key_neither_chains_nor_verifies(pool: asyncpg.Pool) -> None:
    """A process with another key: its chainer refuses to extend the chain (it would break it),
    and its own records, not signed with the chain's key, are not chained by the others either."""
    await fill(pool, 2)
    other = AuditLog(b"another-key-another-key-another-key!!")
    theirs = await other.record(pool, entry(3))
    ours = await AUDIT.record(pool, entry(4))
    with pytest.raises(AuditKeyMismatch):
        await other.chain_pending(pool)
    assert await pool.fetchval("SELECT seq FROM audit_chain_head") == 2
    done = await AUDIT.chain_pending(pool)
    assert (done.chained, done.refused) == (1, [theirs])
    assert await pool.fetchval("SELECT seq FROM audit_log WHERE id = $1", ours) == 3
    result = await verify(pool)
    assert result.intact and result.stalled and not result.backlog.oldest_signed
    assert result.backlog.oldest_id == theirs
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


async def test_a_rolled_back_action_leaves_no_record_and_no_gap(pool: asyncpg.Pool) -> None:
    """Ids of rolled-back records are lost, as any sequence's: the chain does not care, its seqs
    are the chainer's. Nothing waits, nothing is reported."""
    first = await AUDIT.record(pool, entry(1))
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await AUDIT.append_many(conn, [entry(2), entry(3)])
                raise RuntimeError("the bulk search failed")
    last = await AUDIT.record(pool, entry(4))
    assert last > first + 1  # a gap in the ids
    assert await chain(pool) == 2
    rows = await pool.fetch("SELECT seq, details->>'i' AS i FROM audit_log ORDER BY seq")
    assert [(r["seq"], r["i"]) for r in rows] == [(1, "1"), (2, "4")]
    result = await verify(pool)
    assert result.ok and result.checked == 2 and result.backlog.pending == 0 and not result.stalled


async def test_a_bulk_is_chained_in_its_order(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        ids = await AUDIT.append_many(conn, [entry(i) for i in range(1, 2501)])
    assert len(ids) == 2500 and ids == sorted(ids)
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE seq IS NULL") == 2500
    done = await AUDIT.chain_pending(pool)  # a batch at a time
    assert (done.chained, done.more) == (1000, True)
    while (await AUDIT.chain_pending(pool)).chained:
        pass
    rows = await pool.fetch("SELECT seq, (details->>'i')::int AS i FROM audit_log ORDER BY seq")
    assert [r["i"] for r in rows] == list(range(1, 2501)) and rows[-1]["seq"] == 2500
    assert (await verify(pool)).ok


async def insert_waiting(pool: asyncpg.Pool, e: AuditEntry, at: Any, *, signed: bool = True) -> int:
    """A record as a writer leaves it, but written at ``at`` (a chainer that stopped long ago)."""
    from enforcement.domain.audit import record_mac

    record_id: int = await pool.fetchval(
        """INSERT INTO audit_log (at, action, actor_login, actor_role, actor_court, case_id, case_number, case_court,
                                  subject_key, purpose, target, request_id, details, mac)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id""",
        at, e.action, e.actor_login, e.actor_role, e.actor_court, e.case_id, e.case_number, e.case_court,
        e.subject_key, e.purpose, e.target, e.request_id, dict(e.details), record_mac(KEY, at, e) if signed else None)
    return record_id


async def test_a_record_waiting_too_long_is_reported(pool: asyncpg.Pool, db_url: str, tmp_path: Any) -> None:
    from datetime import timedelta

    await fill(pool, 3)
    now = await pool.fetchval("SELECT now()")
    old = await insert_waiting(pool, entry(4), now - timedelta(seconds=90))
    await AUDIT.record(pool, entry(5))
    result = await verify(pool)
    assert result.intact and result.checked == 3 and not result.ok and result.stalled
    b = result.backlog
    assert (b.pending, b.oldest_id, b.oldest_signed) == (2, old, True) and 90 <= b.age_seconds < 120
    assert f"record id {old}" in b.describe()
    async with pool.acquire() as conn:  # a looser threshold: not yet a problem
        assert (await AUDIT.verify(conn, stale_after=300)).ok
    code, out = await _cli(db_url, tmp_path, "verify")
    assert code == 1 and "intact" in out and "NOT CHAINED" in out and f"record id {old}" in out, out
    code, out = await _cli(db_url, tmp_path, "chain")
    assert code == 0 and "2 record(s) chained" in out, out
    code, out = await _cli(db_url, tmp_path, "verify")
    assert code == 0 and "5 records" in out, out


async def test_a_record_the_service_did_not_write_is_not_chained(pool: asyncpg.Pool) -> None:
    """Someone with write access inserts a record to have it chained (and so signed by the chain's
    key): it carries no writer's signature, the chainer passes it over, verify names it at once."""
    await fill(pool, 2)
    now = await pool.fetchval("SELECT now()")
    forged = await insert_waiting(pool, entry(3), now, signed=False)
    altered = await insert_waiting(pool, entry(4), now)
    await as_superuser(pool, f"UPDATE audit_log SET subject_key = 'person:110101199003070011' WHERE id = {altered}")
    genuine = await AUDIT.record(pool, entry(5))
    done = await AUDIT.chain_pending(pool)
    assert (done.chained, sorted(done.refused)) == (1, [forged, altered])
    assert await pool.fetchval("SELECT seq FROM audit_log WHERE id = $1", genuine) == 3
    result = await verify(pool)
    assert result.intact and result.stalled and result.backlog.oldest_id == forged
    assert "does not carry the service's signature" in result.backlog.describe()


async def test_records_left_by_a_chainer_that_died_are_chained_by_the_next(pool: asyncpg.Pool, db_url: str) -> None:
    """A process writes records and dies mid-round (its chainer holds the head, its connection
    drops): the round rolls back whole, and a chainer of another process, started afterwards,
    chains everything from where the chain stood."""
    from enforcement.kernel.audit_chainer import AuditChainer

    await fill(pool, 2)
    for i in range(3, 8):
        await AUDIT.record(pool, entry(i))
    dying = await asyncpg.connect(db_url)
    await dying.execute("BEGIN")
    await dying.fetchrow("SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE")
    await dying.execute("UPDATE audit_log SET seq = 3, prev_hash = 'x', hash = 'y' WHERE id = (SELECT min(id) FROM "
                        "audit_log WHERE seq IS NULL)")
    assert (await AUDIT.chain_pending(pool)).busy  # the others pass while it holds the head
    await pool.execute("SELECT pg_terminate_backend($1)", dying.get_server_pid())
    dying.terminate()

    chainer = AuditChainer(AUDIT, pool, interval_seconds=0.05)  # the next process: no notification reaches it
    running = asyncio.create_task(chainer.run())
    try:
        async with asyncio.timeout(10):
            while await pool.fetchval("SELECT count(*) FROM audit_log WHERE seq IS NULL"):
                await asyncio.sleep(0.02)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert chainer.chained == 5
    rows = await pool.fetch("SELECT seq, (details->>'i')::int AS i FROM audit_log ORDER BY seq")
    assert [(r["seq"], r["i"]) for r in rows] == [(i, i) for i in range(1, 8)]
    result = await verify(pool)
    assert result.ok and result.checked == 7


async def test_a_round_whose_snapshot_predates_the_last_chainers_commit_reads_again(
        pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The round locks the head and reads the records in one statement, whose snapshot is taken
    before the lock: when a chainer commits in between, that snapshot still shows its records
    waiting. Simulated here (the window is microseconds): the claim sees chained records as
    waiting and reports itself stale; the round reads again and chains only what really waits."""
    from enforcement.kernel.queries import Q

    await fill(pool, 3)
    for i in range(4, 6):
        await AUDIT.record(pool, entry(i))
    stale = Q.claim_audit_round.replace("h.seq = (SELECT seq FROM audit_chain_head WHERE id = 1) AS fresh",
                                        "false AS fresh").replace("WHERE seq IS NULL AND id", "WHERE id")
    assert stale != Q.claim_audit_round and "false AS fresh" in stale and "WHERE id <> ALL" in stale
    monkeypatch.setitem(Q._q, "claim_audit_round", stale)
    done = await AUDIT.chain_pending(pool, look_first=False)
    assert done.chained == 2 and not done.refused
    rows = await pool.fetch("SELECT seq, (details->>'i')::int AS i FROM audit_log ORDER BY seq")
    assert [(r["seq"], r["i"]) for r in rows] == [(i, i) for i in range(1, 6)]
    result = await verify(pool)
    assert result.ok and result.checked == 5


async def test_a_woken_chainer_gathers_the_records_written_meanwhile_into_one_round(pool: asyncpg.Pool) -> None:
    """Woken, the chainer waits ``gather_seconds`` before its round: the records of the actions
    committed meanwhile (each waking it again) are chained in that one round."""
    from enforcement.kernel.audit_chainer import AuditChainer

    class Counting(AuditLog):
        rounds = 0

        async def chain_pending(self, *a: Any, **k: Any) -> Any:
            Counting.rounds += 1
            return await super().chain_pending(*a, **k)

    audit = Counting(KEY)
    chainer = AuditChainer(audit, pool, interval_seconds=60, gather_seconds=0.3)
    running = asyncio.create_task(chainer.run())
    try:
        await asyncio.sleep(0.05)  # its first round, on starting: nothing waits
        assert Counting.rounds == 1
        for i in range(1, 6):
            await audit.record(pool, entry(i))
            chainer.wake()
        async with asyncio.timeout(10):
            while await pool.fetchval("SELECT count(*) FROM audit_log WHERE seq IS NULL"):
                await asyncio.sleep(0.02)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert Counting.rounds == 2 and chainer.chained == 5
    assert (await verify(pool)).ok


async def test_the_chainers_update_changes_nothing_else_not_even_a_column_added_later(pool: asyncpg.Pool) -> None:
    """The trigger compares the rows byte for byte but for seq, prev_hash and hash (migration
    0032): a value set, cleared, or changed by a microsecond or a space is refused, in every
    column, one added after the trigger was written too; the chainer's own update passes."""
    await fill(pool, 1)
    waiting = await AUDIT.record(pool, entry(2))
    await pool.execute("ALTER TABLE audit_log ADD COLUMN note text")
    chainer_and = "UPDATE audit_log SET seq = 2, prev_hash = 'x', hash = 'y', {} WHERE id = {}"
    for change in ("details = details || '{\"i\": 3}'", "details = '{}'", "case_id = NULL", "reason = 'r'",
                   "at = at + interval '1 microsecond'", "request_id = request_id || ' '", "note = 'added later'",
                   "mac = upper(mac)"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await pool.execute(chainer_and.format(change, waiting))
    assert await chain(pool) == 1
    assert (await verify(pool)).ok
