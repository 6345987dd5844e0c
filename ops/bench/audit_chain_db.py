"""What the audit chain costs the database per chained record (issue 19, p-chain): N records
written as submissions write them (signed, not chained), then one round of the real chainer
(``AuditLog.chain_pending``), whose writing statement is also run under ``EXPLAIN (ANALYZE,
BUFFERS, WAL)`` in a savepoint rolled back just before it runs for real. Counted, not timed:
buffers touched and dirtied, WAL records and bytes, per chained record; then whether the updates
were HOT, and the round trips of the round.

    PYTHONPATH=$PWD python ops/bench/audit_chain_db.py [--records 1 30 1000]

An embedded PostgreSQL (fsync off), one database per N, a CHECKPOINT before each round so full
page images count the same way every time. Prints only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

import asyncpg

from enforcement.domain.audit import AuditEntry
from enforcement.kernel.audit import AuditLog
from enforcement.kernel.embedded import EmbeddedPostgres
from enforcement.kernel.migrate import apply_migrations
from enforcement.kernel.pool import init_connection

KEY = b"audit-chain-db-bench-key-0123456789abcdef"
HISTORY = 2000  # records chained before the measure, so that the indexes are not empty



class Explaining:
    """A pool stand-in whose connections explain the chain's writing statement before running it,
    and count the statements of the round."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.plans: list[dict[str, Any]] = []
        self.statements = 0

    def acquire(self) -> Any:
        outer = self

        class Acquire:
            async def __aenter__(self) -> Any:
                self.cm = outer.pool.acquire()
                conn = await self.cm.__aenter__()
                return Conn(conn, outer)

            async def __aexit__(self, *exc: Any) -> Any:
                return await self.cm.__aexit__(*exc)

        return Acquire()

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.statements += 1
        return await self.pool.fetchval(sql, *args)

    async def fetch(self, sql: str, *args: Any) -> Any:
        self.statements += 1
        return await self.pool.fetch(sql, *args)


class Conn:
    def __init__(self, conn: Any, outer: Explaining) -> None:
        self.conn = conn
        self.outer = outer

    def transaction(self) -> Any:
        self.outer.statements += 2  # BEGIN, COMMIT
        return self.conn.transaction()

    async def _explain(self, sql: str, args: tuple[Any, ...]) -> None:
        if sql.lstrip().startswith("--"):
            sql = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
        if "UPDATE audit_log" not in sql:
            return
        async with self.conn.transaction():  # a savepoint, rolled back
            plan = await self.conn.fetchval("EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) " + sql, *args)
            self.outer.plans.append((json.loads(plan) if isinstance(plan, str) else plan)[0])
            raise _Rollback

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.outer.statements += 1
        with contextlib.suppress(_Rollback):
            await self._explain(sql, args)
        return await self.conn.fetchval(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        self.outer.statements += 1
        return await self.conn.fetchrow(sql, *args)

    async def fetch(self, sql: str, *args: Any) -> Any:
        self.outer.statements += 1
        with contextlib.suppress(_Rollback):
            await self._explain(sql, args)
        return await self.conn.fetch(sql, *args)


class _Rollback(Exception):
    pass


def _sum(node: dict[str, Any], key: str) -> int:
    """A plan's top node carries its children's buffers and WAL; triggers are counted apart."""
    return int(node.get(key, 0))


async def one(admin_dsn: str, n: int) -> str:
    admin = await asyncpg.connect(admin_dsn)
    name = f"chain_{n}"
    await admin.execute(f"DROP DATABASE IF EXISTS {name}")
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    dsn = admin_dsn.rsplit("/", 1)[0] + f"/{name}"
    conn = await asyncpg.connect(dsn)
    await init_connection(conn)
    await apply_migrations(conn)
    audit = AuditLog(KEY)

    def entry(i: int, target: str) -> AuditEntry:
        return AuditEntry(action="search", actor_login="zhangwei", actor_role="judge", actor_court="辽0102",
                          case_id=1000 + i % 7, case_number="(2026)辽0102执123号", case_court="辽0102",
                          subject_key=f"person:2101021990010{i:05d}", purpose="财产调查", target=target,
                          request_id=f"req-{target}-{i}", details={"agencies": ["banks", "vehicles"], "n": i})

    await conn.execute("ALTER TABLE audit_log SET (autovacuum_enabled = false)")  # nothing else writes
    await audit.append_many(conn, [entry(i, "history") for i in range(HISTORY)])  # a chain already there
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2, init=init_connection)
    while (await audit.chain_pending(pool)).more:
        pass
    await conn.execute("VACUUM ANALYZE audit_log")
    wal = "SELECT pg_stat_force_next_flush(), w.wal_records, w.wal_bytes FROM pg_stat_wal w"
    await conn.fetchrow(wal)
    start = await conn.fetchrow(wal)
    assert start is not None
    for i in range(n):  # one a transaction, as submissions write them
        await audit.record(conn, entry(i, f"search-{i}"))
    await conn.fetchrow(wal)
    end = await conn.fetchrow(wal)
    assert end is not None
    insert_wal = ((end["wal_records"] - start["wal_records"]) / n, float(end["wal_bytes"] - start["wal_bytes"]) / n)
    await conn.execute("VACUUM ANALYZE audit_log")
    await conn.execute("CHECKPOINT")
    before = await conn.fetchrow("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'audit_log'")
    explaining = Explaining(pool)
    done = await audit.chain_pending(explaining)  # type: ignore[arg-type]
    await pool.close()
    assert done.chained == n, done
    await conn.execute("SELECT pg_stat_force_next_flush()")
    await asyncio.sleep(0.6)
    after = await conn.fetchrow("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'audit_log'")
    assert before is not None and after is not None
    indexes = await conn.fetchval("SELECT count(*) FROM pg_index WHERE indrelid = 'audit_log'::regclass")
    verified = await audit.verify(conn)
    await conn.close()
    assert verified.ok, verified
    plan = explaining.plans[0]
    top = plan["Plan"]
    trig = sum(t.get("Time", 0.0) for t in plan.get("Triggers", []))
    hot = (after["n_tup_hot_upd"] - before["n_tup_hot_upd"], after["n_tup_upd"] - before["n_tup_upd"])
    per = {k: _sum(top, k) / n for k in ("Shared Hit Blocks", "Shared Read Blocks", "Shared Dirtied Blocks",
                                         "WAL Records", "WAL Bytes", "WAL FPI")}
    return (f"{n:5d} records: inserting them {insert_wal[0]:.1f} WAL records, {insert_wal[1]:.0f} bytes a record "
            f"(with its commit); "
            f"{explaining.statements} statements in the round; per chained record "
            f"{per['Shared Hit Blocks'] + per['Shared Read Blocks']:.1f} buffers touched, "
            f"{per['Shared Dirtied Blocks']:.2f} dirtied, {per['WAL Records']:.1f} WAL records, "
            f"{per['WAL Bytes']:.0f} WAL bytes ({per['WAL FPI']:.2f} full pages); HOT {hot[0]} of {hot[1]} "
            f"updates; {indexes} indexes; execution {plan['Execution Time']:.2f} ms "
            f"(triggers {trig:.2f} ms)")


async def main_async(records: list[int], root: Path) -> None:
    pg = EmbeddedPostgres(root / "pg", fast=True)
    dsn = pg.start()
    try:
        for n in records:
            print(await one(dsn, n), flush=True)
    finally:
        pg.stop(mode="immediate")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=[1, 30, 1000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="audit-chain-db-") as tmp:
        asyncio.run(main_async(args.records, Path(tmp)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
