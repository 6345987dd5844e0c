"""The hot statements' plans on the partitioned agency_task / search_event (migration 0021,
decision 1901), and what a by-id statement costs per partition.

    python ops/bench/partition_plans.py --dsn postgresql://.../postgres [--months 12 72] [--tasks-per-month 2000]

For each partition count (months of history kept, plus the default and the months ahead), a fresh
database: migrated, seeded, ``--tasks-per-month`` finished tasks (and as many events) in every
past month and 200 due tasks now; ANALYZE. Then EXPLAIN (ANALYZE, BUFFERS) of the claim, the
outcome flush's by-id UPDATE, a search's tasks, the event hub's read and the ticket lookup (in
transactions rolled back), with the partitions each one touches, and the mean time of the by-id
UPDATE of 50 tasks over 200 runs (``--legacy``). Prints Markdown.

Migration 0025 (pruning by created_at): for each partition count, each hot statement as the service
runs it (the claims, the flush as the worker sends it (``flush_outcomes_packed`` with the store's
own arguments), a search's tasks and events, the ticket lookups, the event hub),
once in a custom and once in a generic plan: the partitions it read (its functions' nested
statements included, through auto_explain), its shared buffers and its planning buffers, all
deterministic counts, and the planning time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from datetime import UTC, datetime

import asyncpg

from enforcement.kernel.migrate import apply_migrations
from enforcement.kernel.partitions import add_months, this_month
from enforcement.kernel.pool import init_connection
from enforcement.kernel.queries import Q
from enforcement.searches.store.tasks import Settlement, Success, flush_arguments
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


# The statements the service runs, as it runs them (migration 0025): functions' nested statements
# are seen through auto_explain (reported to the session as NOTICEs), so the partitions a claim or a
# flush reads inside its function count too.
HOT = {
    "claim (claim_due_tasks)": (Q.claim_tasks_many, lambda d: [["vehicles", "hotels"], "bench", [25, 25], 60.0,
                                                                 [64, 64], [1, 1], 50]),
    "claim a batch agency (claim_agency_tasks)": (Q.claim_tasks, lambda d: ["banks", "bench", 25, 60.0, 64, "any",
                                                                            None, 1]),
    "flush 50 outcomes (flush_outcomes_packed)": (Q.flush_outcomes_packed, lambda d: d["flush"]),
    "a search's tasks (get_search_tasks)": (Q.get_search_tasks, lambda d: [d["sid"]]),
    "a search's events (events_of_search)": (Q.events_of_search, lambda d: [d["sid"], 0]),
    "an idle stream's replay (stored_events_of_search)": (Q.stored_events_of_search, lambda d: [d["sid"], 0]),
    "ticket (find_task_by_ticket)": (Q.find_task_by_ticket, lambda d: ["banks", "T-bench"]),
    "callback tickets (find_tasks_by_tickets)": (Q.find_tasks_by_tickets, lambda d: [["T-bench", "T-none"]]),
    "event hub (events_after)": (Q.events_after, lambda d: [d["last_event"], 100]),
    "before 0025: by id alone, 50 tasks (UPDATE .. WHERE id = ANY)": (
        STATEMENTS["flush by id (UPDATE .. WHERE id = ANY)"][0], lambda d: [d["ids"]]),
}


def _walk(plan: dict, out: list) -> None:
    if plan.get("Relation Name"):
        out.append((plan["Relation Name"], int(plan.get("Actual Loops", 0))))
    for sub in plan.get("Plans", ()):
        _walk(sub, out)


async def measure_hot(dsn: str, months: int, plan_cache_mode: str) -> None:
    """Each hot statement once, rolled back, under EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) with
    auto_explain on its nested statements: partitions read, buffers (deterministic counts), planning."""
    conn = await asyncpg.connect(dsn)
    await init_connection(conn)  # jsonb as the service's pool encodes it (the flush's one document)
    try:
        parts = await conn.fetchval("SELECT count(*) FROM pg_inherits WHERE inhparent = 'agency_task'::regclass")
        rows = await conn.fetch("SELECT id, created_at FROM agency_task WHERE status = 'queued' ORDER BY id LIMIT 50")
        ids, ats = [r["id"] for r in rows], [r["created_at"] for r in rows]
        ticketed = await conn.fetchval("SELECT max(id) FROM agency_task WHERE status = 'queued' AND agency = 'banks'")
        await conn.execute("UPDATE agency_task SET ticket = 'T-bench', status = 'waiting' WHERE id = $1", ticketed)
        d = {
            "ids": ids,
            "sid": await conn.fetchval("SELECT search_id FROM agency_task WHERE id = $1", ids[0]),
            "last_event": await conn.fetchval("SELECT max(id) - 100 FROM search_event"),
            # what the worker sends (the store's own flush_arguments): 40 answers of one record, 10 retries
            "flush": flush_arguments(
                [Success(i, {"ok": True}, datetime.now(UTC), None, [("vehicle", f"V{i}", {"v": 1})], at)
                 for i, at in zip(ids[:40], ats[:40], strict=True)],
                [Settlement(i, "retry", None, 5.0, "x", "y", at) for i, at in zip(ids[40:], ats[40:], strict=True)],
                None),
        }
        notices: list[dict] = []

        def listener(_c: object, msg: object) -> None:
            text = getattr(msg, "message", "")
            if "{" in text and "Plan" in text:
                notices.append(json.loads(text[text.index("{"):]))

        await conn.execute("LOAD 'auto_explain'")
        for k, v in (("log_min_duration", "0"), ("log_analyze", "on"), ("log_buffers", "on"),
                     ("log_format", "json"), ("log_nested_statements", "on"), ("log_level", "notice"),
                     ("log_timing", "off")):
            await conn.execute(f"SET auto_explain.{k} = '{v}'")
        await conn.execute(f"SET plan_cache_mode = '{plan_cache_mode}'")
        conn.add_log_listener(listener)
        print(f"\n### {months} months of history: {parts} agency_task partitions, plan_cache_mode {plan_cache_mode}\n")
        print("| statement | partitions read | shared buffers (hit+read) | planning buffers | planning ms |")
        print("| --- | --- | --- | --- | --- |")
        for label, (sql, args) in HOT.items():
            notices.clear()
            tr = conn.transaction()
            await tr.start()
            try:
                out = await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *args(d))
            finally:
                await tr.rollback()
            top = (json.loads(out) if isinstance(out, str) else out)[0]
            scans: list = []
            _walk(top["Plan"], scans)
            for n in notices:
                _walk(n["Plan"], scans)
            read = {rel for rel, loops in scans
                    if rel.startswith(("agency_task_", "search_event_")) and rel != "agency_ticket" and loops > 0}
            root = top["Plan"]
            planning = top.get("Planning", {})
            print(f"| {label} | {len(read)} | {root.get('Shared Hit Blocks', 0) + root.get('Shared Read Blocks', 0)} | "
                  f"{planning.get('Shared Hit Blocks', 0) + planning.get('Shared Read Blocks', 0)} | "
                  f"{top.get('Planning Time', 0):.2f} |")
        conn.remove_log_listener(listener)
        await conn.execute("UPDATE agency_task SET ticket = NULL, status = 'queued' WHERE id = $1", ticketed)
    finally:
        await conn.close()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", required=True, help="a server's admin DSN (databases are created and left)")
    ap.add_argument("--months", type=int, nargs="+", default=[0, 72],
                    help="months of history: 0 gives 5 partitions (this month, 3 ahead, default), 72 gives 77")
    ap.add_argument("--legacy", action="store_true", help="also the per-statement timings of the by-id UPDATE")
    ap.add_argument("--tasks-per-month", type=int, default=2000)
    ap.add_argument("--plans", action="store_true", help="print every plan in full")
    args = ap.parse_args()
    print(f"`python ops/bench/partition_plans.py --months {' '.join(map(str, args.months))} "
          f"--tasks-per-month {args.tasks_per_month}`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    for months in args.months:
        dsn = await build(args.dsn, months, args.tasks_per_month)
        for mode in ("auto", "force_generic_plan"):
            await measure_hot(dsn, months, mode)
        if args.legacy or args.plans:
            await measure(dsn, months, args.plans)


if __name__ == "__main__":
    asyncio.run(main())
