"""The hot statements' plans on the partitioned agency_task / search_event (migration 0021,
decision 1901), and what a by-id statement costs per partition.

    python ops/bench/partition_plans.py --dsn postgresql://.../postgres [--months 12 72] [--tasks-per-month 2000]

For each partition count (months of history kept, plus the default and the months ahead), a fresh
database: migrated, seeded, ``--tasks-per-month`` finished tasks (and as many events) in every
past month and 200 due tasks now; ANALYZE. Then EXPLAIN (ANALYZE, BUFFERS) of the claim, the
outcome flush's by-id UPDATE, a search's tasks, the event hub's read and the ticket lookup (in
transactions rolled back), with the partitions each one touches, and the mean time of the by-id
UPDATE of 50 tasks over 200 runs. Prints Markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from datetime import UTC, datetime

import asyncpg

from enforcement.kernel.migrate import apply_migrations
from enforcement.kernel.partitions import add_months, this_month
from enforcement.kernel.queries import Q
from enforcement.seeds import seed

STATEMENTS = {
    "claim (tasks.sql claim_tasks)": (Q.claim_tasks, lambda ids: ["vehicles", "w1", 50, 60.0, 64, "any", None, 1]),
    "flush by id (UPDATE .. WHERE id = ANY)": (
        "UPDATE agency_task t SET status = 'succeeded', finished_at = now() "
        "WHERE t.id = ANY($1::bigint[]) AND t.status IN ('queued', 'running', 'waiting')", lambda ids: [ids]),
    "flush by id with created_at (pruned)": (
        "UPDATE agency_task t SET status = 'succeeded', finished_at = now() "
        "WHERE t.id = ANY($1::bigint[]) AND t.created_at = ANY($2::timestamptz[]) "
        "AND t.status IN ('queued', 'running', 'waiting')",
        lambda ids: [ids, None]),
    "a search's tasks (get_search_tasks)": (Q.get_search_tasks, lambda ids: [None]),
    "event hub (events_after)": (Q.events_after, lambda ids: [0, 100]),
    "ticket (find_task_by_ticket)": (Q.find_task_by_ticket, lambda ids: ["banks", "T-none"]),
}


def _with_database(dsn: str, name: str) -> str:
    base, _, _ = dsn.rpartition("/")
    return f"{base}/{name}"


async def build(admin: str, months: int, per_month: int) -> str:
    name = f"partition_plans_{months}"
    a = await asyncpg.connect(admin)
    await a.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await a.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    await a.close()
    dsn = _with_database(admin, name)
    conn = await asyncpg.connect(dsn)
    try:
        await apply_migrations(conn)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
        await seed(pool)
        await pool.close()
        now = this_month(datetime.now(UTC))
        first = add_months(now, -months)
        for table in ("agency_task", "search_event"):
            await conn.execute("SELECT ensure_month_partitions($1::regclass, $2, $3)", table, first, now)
        case_id = await conn.fetchval("SELECT min(id) FROM enforcement_case")
        for k in range(months + 1):
            month = add_months(first, k)
            at = datetime(month.year, month.month, 10, tzinfo=UTC)
            current = month == now
            n = 200 if current else per_month
            await conn.execute(
                """WITH s AS (
                       INSERT INTO search (id, case_id, subject_kind, subject_id_number, subject_name, subject_key,
                                           purpose, requested_by, request_no, case_number, court_code, judge_name,
                                           judge_officer_id, document_number, status, created_at)
                       SELECT gen_random_uuid(), c.id, 'person', '110101199003071234', '张三',
                              'person:110101199003071234', '财产调查', 'zhangwei', 'R' || g, c.case_number,
                              c.court_code, '张伟', '2101020031', 'doc', $4, $1
                       FROM enforcement_case c, generate_series(1, $2 / 5) g WHERE c.id = $3
                       RETURNING id, created_at
                   ), t AS (
                       INSERT INTO agency_task (search_id, agency, idempotency_key, deadline_at, status, due_at,
                                                created_at, finished_at)
                       SELECT s.id, a, s.id::text || ':' || a, s.created_at + interval '1 day', $5,
                              CASE WHEN $5 = 'queued' THEN now() ELSE s.created_at END, s.created_at,
                              CASE WHEN $5 = 'queued' THEN NULL ELSE s.created_at END
                       FROM s, unnest(ARRAY['vehicles', 'hotels', 'banks', 'exit_entry', 'social_insurance']) a
                       RETURNING search_id, agency
                   )
                   INSERT INTO search_event (search_id, agency, kind, payload, created_at)
                   SELECT search_id, agency, 'task', '{}', $1 FROM t""",
                at, n, case_id, "running" if current else "completed", "queued" if current else "succeeded")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return dsn


def touched(plan: str) -> tuple[int, int, int]:
    """(partition indexes read, partition heaps scanned whole that held pages, subplans removed)."""
    index = len(re.findall(r"(?:Index (?:Only )?Scan(?: Backward)? using \S+|Bitmap Index Scan) on "
                           r"(?:agency_task|search_event)_\w+", plan))
    # a sequential scan that read pages (an empty partition's costs none): its node's own Buffers line
    seq = 0
    lines = plan.splitlines()
    for i, line in enumerate(lines):
        if re.search(r"Seq Scan on (?:agency_task|search_event)_\w+", line):
            depth = len(line) - len(line.lstrip())
            for follow in lines[i + 1:]:
                if "->" in follow or len(follow) - len(follow.lstrip()) <= depth:
                    break
                if "Buffers: shared" in follow:
                    seq += 1
                    break
    removed = sum(int(x) for x in re.findall(r"Subplans Removed: (\d+)", plan))
    return index, seq, removed


async def measure(dsn: str, months: int, verbose: bool) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        parts = await conn.fetchval(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'agency_task'::regclass")
        rows = await conn.fetch(
            "SELECT id, created_at FROM agency_task WHERE status = 'queued' ORDER BY id LIMIT 50")
        ids = [r["id"] for r in rows]
        ats = [r["created_at"] for r in rows]
        sid = await conn.fetchval("SELECT search_id FROM agency_task WHERE status = 'queued' LIMIT 1")
        print(f"\n### {months} months of history: {parts} agency_task partitions\n")
        print("| statement | partition indexes read | partition heaps scanned (pages read) | subplans pruned "
              "| planning ms | execution ms |")
        print("| --- | --- | --- | --- | --- | --- |")
        for label, (sql, args) in STATEMENTS.items():
            params = args(ids)
            if label.startswith("a search's"):
                params = [sid]
            if label.endswith("(pruned)"):
                params = [ids, ats]
            tr = conn.transaction()
            await tr.start()
            try:
                await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
                plan = "\n".join(r[0] for r in await conn.fetch(
                    f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) {sql}", *params))
            finally:
                await tr.rollback()
            index, seq, removed = touched(plan)
            ms = re.search(r"Execution Time: ([\d.]+) ms", plan)
            planning = re.search(r"Planning Time: ([\d.]+) ms", plan)
            print(f"| {label} | {index} | {seq} | {removed} | {planning.group(1) if planning else '-'} | "
                  f"{ms.group(1) if ms else '?'} |")
            if verbose:
                print("\n```\n" + plan + "\n```\n")
        for label, sql, params in (
            ("by id, 50 tasks", STATEMENTS["flush by id (UPDATE .. WHERE id = ANY)"][0], [ids]),
            ("by id and created_at, 50 tasks", STATEMENTS["flush by id with created_at (pruned)"][0], [ids, ats]),
        ):
            stmt = await conn.prepare(sql)
            runs = 200
            t0 = time.perf_counter()
            for _ in range(runs):
                tr = conn.transaction()
                await tr.start()
                await stmt.fetch(*params)
                await tr.rollback()
            print(f"\n{label}: {(time.perf_counter() - t0) / runs * 1000:.2f} ms a statement (mean of {runs}, "
                  "rolled back)")
    finally:
        await conn.close()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", required=True, help="a server's admin DSN (databases are created and left)")
    ap.add_argument("--months", type=int, nargs="+", default=[0, 12, 72])
    ap.add_argument("--tasks-per-month", type=int, default=2000)
    ap.add_argument("--plans", action="store_true", help="print every plan in full")
    args = ap.parse_args()
    print(f"`python ops/bench/partition_plans.py --months {' '.join(map(str, args.months))} "
          f"--tasks-per-month {args.tasks_per_month}`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    for months in args.months:
        dsn = await build(args.dsn, months, args.tasks_per_month)
        await measure(dsn, months, args.plans)


if __name__ == "__main__":
    asyncio.run(main())
