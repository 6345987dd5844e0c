"""Deterministic counts per durable search: what the database is asked to do, whatever the
machine's speed or load (issue 19, fourth round).

    python ops/bench/counts.py [--searches 300] [--workers 1] [--concurrency 64]

The service runs as ``fanout.py`` runs it (one API, ``--workers`` workers, the five simulators with
no latency, the bank answering its tickets at once, pg_stat_statements with nested statements).
After a warm-up, per measured search:

- statements the service sent (pg_stat_statements, top level: each one is a round trip) and the
  statements run inside functions and triggers (nested), by statement;
- rows inserted / updated / deleted per table (pg_stat_user_tables deltas, read after every
  backend has flushed its counters);
- PL/pgSQL function calls (pg_stat_user_functions: the outcome flush, the claim, triggers);
- foreign-key checks (one per inserted row per foreign key of its table, and one per updated
  row whose key column changed: counted from the schema and the insert counts);
- indexes per written table (each written row touches each one, unless the update is HOT).

Counts depend on how outcomes batch (a flush of many tasks is one statement), so a run states
the concurrency; at a given concurrency they repeat within a few percent between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
from common import (
    Client,
    Postgres,
    Service,
    Simulators,
    debtors,
    install_uvloop,
    reset_searches,
    seed_case,
    service_env,
    token,
    wait_completed,
    workspace,
)
from fanout import NO_LATENCY

CATEGORIES = (  # top-level statements, by what they are for (the first match wins)
    ("submission (user, case, submit)", ("FROM app_user WHERE login", "WITH plan AS MATERIALIZED",
                                         "WITH submitted AS MATERIALIZED", "SELECT c.id, c.case_number")),
    ("claims", ("claim_due_tasks", "claim_agency_tasks", "WITH gate AS", "hashtext($1))", "min(since)")),
    ("outcome flushes", ("flush_outcomes",)),
    ("audit chainer", ("audit_log WHERE seq IS NULL", "audit_chain_head", "SELECT id, at, action",
                       "WITH chained AS")),
    ("BEGIN / COMMIT", ("BEGIN", "COMMIT")),
)
OTHER = "other (background loops)"
MINE = ("pg_stat_", "count(*) FROM search WHERE status", "SHOW ", "pg_catalog.")
TABLES = ("search", "agency_task", "agency_answer", "asset_record", "subject_asset", "search_event",
          "audit_log", "answer_review", "agency_breaker", "dispatcher_heartbeat")


async def snapshot(dsn: str) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        # a partitioned table's rows are counted in its partitions (agency_task, search_event: migration
        # 0021): summed under the table's name
        tables = {r["relname"]: (r["n_tup_ins"], r["n_tup_upd"], r["n_tup_del"], r["n_tup_hot_upd"])
                  for r in await conn.fetch(
                      "SELECT coalesce(pg_partition_root(relid), relid)::regclass::text AS relname, "
                      "sum(n_tup_ins)::bigint AS n_tup_ins, sum(n_tup_upd)::bigint AS n_tup_upd, "
                      "sum(n_tup_del)::bigint AS n_tup_del, sum(n_tup_hot_upd)::bigint AS n_tup_hot_upd "
                      "FROM pg_stat_user_tables GROUP BY 1")}
        functions = {r["funcname"]: r["calls"] for r in await conn.fetch(
            "SELECT funcname, calls FROM pg_stat_user_functions")}
        statements = [dict(r) for r in await conn.fetch(
            "SELECT toplevel, calls, rows, query FROM pg_stat_statements")]
        indexes = {r["relname"]: r["n"] for r in await conn.fetch(
            "SELECT c.relname, count(*) AS n FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' GROUP BY 1")}
        fks = {r["relname"]: r["n"] for r in await conn.fetch(
            "SELECT c.relname, count(*) AS n FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            "WHERE k.contype = 'f' GROUP BY 1")}
        return {"tables": tables, "functions": functions, "statements": statements, "indexes": indexes, "fks": fks}
    finally:
        await conn.close()


async def reset_statements(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_stat_statements_reset()")
    finally:
        await conn.close()


def report(before: dict[str, Any], after: dict[str, Any], n: int, workers: int, concurrency: int) -> str:
    out = [f"per search ({n} searches, {workers} worker(s), {concurrency} submissions in flight):"]
    stmts = [s for s in after["statements"] if not any(m in s["query"] for m in MINE)]
    top = sum(s["calls"] for s in stmts if s["toplevel"])
    nested = sum(s["calls"] for s in stmts if not s["toplevel"])
    out.append(f"  statements sent (round trips, top level): {top / n:.2f}; nested statements: {nested / n:.2f}")
    by_category: dict[str, int] = {}
    for s in stmts:
        if s["toplevel"]:
            name = next((c for c, marks in CATEGORIES if any(m in s["query"] for m in marks)), OTHER)
            by_category[name] = by_category.get(name, 0) + s["calls"]
    for name in [c for c, _ in CATEGORIES] + [OTHER]:
        out.append(f"    {name:34s} {by_category.get(name, 0) / n:6.2f}")
    out.append("  by statement:")
    for s in sorted(stmts, key=lambda s: -s["calls"]):
        if s["calls"] / n >= 0.01:
            kind = "top" if s["toplevel"] else "nested"
            out.append(f"    {s['calls'] / n:6.2f} {kind:6s} rows {s['rows'] / max(s['calls'], 1):6.1f}/call  "
                       + " ".join(s["query"].split())[:100])
    out.append("  rows per search, by table: inserted / updated (HOT) / deleted; indexes; foreign keys")
    fk_checks = 0.0
    for t in TABLES:
        b = before["tables"].get(t, (0, 0, 0, 0))
        a = after["tables"].get(t, (0, 0, 0, 0))
        ins, upd, dele, hot = (a[i] - b[i] for i in range(4))
        if ins or upd or dele:
            fk_checks += ins * after["fks"].get(t, 0)
            out.append(f"    {t:22s} {ins / n:6.2f} / {upd / n:6.2f} ({hot / n:5.2f}) / {dele / n:5.2f}; "
                       f"{after['indexes'].get(t, 0)} indexes; {after['fks'].get(t, 0)} fks")
    out.append(f"  foreign-key checks on insert (rows x keys): {fk_checks / n:.2f}")
    out.append("  PL/pgSQL function calls per search:")
    for f, calls in sorted(after["functions"].items()):
        d = calls - before["functions"].get(f, 0)
        if d:
            out.append(f"    {f:28s} {d / n:6.2f}")
    return "\n".join(out)


async def track_functions(admin_dsn: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute("ALTER SYSTEM SET track_functions = 'pl'")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


def measure(args: argparse.Namespace) -> None:
    with workspace("counts", keep=False) as work:
        pg = Postgres(work)
        dsn = pg.start(statements=True)
        asyncio.run(track_functions(pg.admin_dsn))
        sims = Simulators.start(work, NO_LATENCY)
        service: Service | None = None
        try:
            service = Service(work, service_env(dsn, sims.urls, work / "data"), workers=args.workers)
            asyncio.run(run(args, dsn, service, work))
        finally:
            if service is not None:
                service.stop()
            sims.stop()
            pg.stop()


async def run(args: argparse.Namespace, dsn: str, service: Service, work: Path) -> None:
        people = debtors(args.warmup + args.searches)
        await service.start()
        case_id = await seed_case(dsn, people)
        client = Client(service.url, token(work / "data"), case_id)
        await client.closed_loop(people[:args.warmup], args.concurrency)
        await wait_completed(dsn, args.warmup, timeout=300)
        await reset_searches(dsn)
        await asyncio.sleep(11)  # every backend flushes its table counters (idle: at most every 10 s)
        before = await snapshot(dsn)
        await reset_statements(dsn)
        started = time.monotonic()
        submitted = await client.closed_loop(people[args.warmup:], args.concurrency)
        await wait_completed(dsn, len(submitted), timeout=600)
        statements = await snapshot(dsn)
        print(f"{len(submitted)} searches in {time.monotonic() - started:.1f} s (not a figure: the machine is shared)")
        await asyncio.sleep(11)
        after = await snapshot(dsn)
        after["statements"] = statements["statements"]
        print(report(before, after, len(submitted), args.workers, args.concurrency))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    install_uvloop()
    measure(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
