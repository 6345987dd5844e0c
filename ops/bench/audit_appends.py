"""Audit records per second with N concurrent writers, each its own transaction shaped like a
submission's (an insert of its own, the audit record, commit), while the chainers (two, as in an
API and a worker process) chain them; then how long the last records waited, and whether the
chain verifies.

    python ops/bench/audit_appends.py [--writers 8 32 64] [--seconds 5]

Prints only (decision 0404 quotes its figures). An embedded PostgreSQL with fsync off; no
service processes, no HTTP: this measures the audit trail alone.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import asyncpg

from enforcement.domain.audit import AuditEntry
from enforcement.kernel.audit import AuditLog
from enforcement.kernel.audit_chainer import AuditChainer
from enforcement.kernel.embedded import EmbeddedPostgres
from enforcement.kernel.migrate import apply_migrations
from enforcement.kernel.notify import listen_forever
from enforcement.kernel.pool import create_pool

KEY = b"audit-appends-bench-key-0123456789abcdef"


async def run(dsn: str, writers: int, seconds: float) -> str:
    admin = await asyncpg.connect(dsn)
    name = f"appends_{writers}"
    await admin.execute(f"DROP DATABASE IF EXISTS {name}")
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    db = dsn.rsplit("/", 1)[0] + f"/{name}"
    conn = await asyncpg.connect(db)
    await apply_migrations(conn)
    await conn.execute("CREATE TABLE bench_action (id bigserial PRIMARY KEY, v text)")
    await conn.close()
    pool = await create_pool(db, min_size=writers + 4, max_size=writers + 4)
    audit = AuditLog(KEY)
    chainers = [AuditChainer(audit, pool) for _ in range(2)]
    background = [asyncio.create_task(c.run()) for c in chainers]
    background += [asyncio.create_task(listen_forever(db, "audit_pending", c.wake)) for c in chainers]
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def writer(w: int) -> None:
        i = 0
        while time.monotonic() < stop:
            started = time.monotonic()
            async with pool.acquire() as c, c.transaction():
                await c.execute("INSERT INTO bench_action (v) VALUES ($1)", f"{w}-{i}")
                await audit.append(c, AuditEntry(action="search", actor_login="zhangwei", actor_role="judge",
                                                 actor_court="辽0102", case_id=i, purpose="财产调查",
                                                 target=f"s-{w}-{i}", details={"w": w, "i": i}))
            latencies.append(time.monotonic() - started)
            i += 1

    t0 = time.monotonic()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    wall = time.monotonic() - t0
    t1 = time.monotonic()
    while await pool.fetchval("SELECT count(*) FROM audit_log WHERE seq IS NULL"):
        await asyncio.sleep(0.01)
    lag = time.monotonic() - t1
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    async with pool.acquire() as c:
        result = await audit.verify(c)
    await pool.close()
    latencies.sort()
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    return (f"{writers:3d} writers: {len(latencies) / wall:6.0f} records/s, transaction p50 "
            f"{1000 * p50:.1f} ms, p99 {1000 * p99:.1f} ms;"
            f" last records chained {lag:.2f} s after the writers stopped; chain verifies: {result.ok} "
            f"({result.checked} records)")


async def main(writers: list[int], seconds: float) -> None:
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="enforcement-bench-appends-")), fast=True)
    dsn = server.start()
    try:
        for n in writers:
            print(await run(dsn, n, seconds), flush=True)
    finally:
        server.stop(mode="immediate")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(main(args.writers, args.seconds))
