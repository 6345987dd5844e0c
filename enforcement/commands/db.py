"""``enforcement db start|stop|status|url``: the embedded PostgreSQL used when no DATABASE_URL is set.

``enforcement db partitions [--drop-expired]``: the monthly partitions of ``agency_task`` and
``search_event`` with their row counts (the coming months' created first); with ``--drop-expired``,
retention: every partition wholly older than TASK_RETENTION_MONTHS / EVENT_RETENTION_MONTHS and
holding nothing unfinished is dropped, logged and audited (action ``retention_drop``, role
``operator``), decision 1901.

``enforcement db check``: the references checked by construction rather than by foreign key
(migration 0027, decision 1925), each with the rows that point at nothing; exit 1 when any does.

``enforcement db schema [--write]``: the schema every migration gives (a fresh database on that
server, migrated, dumped, dropped), printed, or written to ``enforcement/kernel/schema.sql``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from enforcement.kernel.embedded import EmbeddedPostgres
from enforcement.kernel.settings import Settings


def cmd_schema(settings: Settings, *, write: bool) -> int:
    from enforcement.kernel.pool import resolve_database_url
    from enforcement.kernel.schema import SNAPSHOT, migrated_schema

    text = asyncio.run(migrated_schema(resolve_database_url(settings)))
    if write:
        SNAPSHOT.write_text(text, encoding="utf-8")
        print(f"wrote {SNAPSHOT}")
    else:
        print(text, end="")
    return 0


async def _partitions(settings: Settings, *, drop_expired: bool, operator: str) -> int:
    import asyncpg

    from enforcement.domain.audit import AuditEntry
    from enforcement.kernel import partitions
    from enforcement.kernel.audit import AuditLog, load_audit_key
    from enforcement.kernel.pool import init_connection, resolve_database_url

    dsn = await asyncio.get_running_loop().run_in_executor(None, resolve_database_url, settings)
    conn = await asyncpg.connect(dsn)
    await init_connection(conn)
    try:
        await partitions.ensure_ahead(conn)
        status = 0
        if drop_expired:
            if settings.task_retention_months < settings.requery_years * 12:
                print(f"TASK_RETENTION_MONTHS ({settings.task_retention_months}) is shorter than the re-query "
                      f"horizon (REQUERY_YEARS={settings.requery_years}): the case records read their searches' "
                      "tasks; nothing dropped / 任务保留期短于复查期限，未删除任何分区")
                return 2
            audit = AuditLog(load_audit_key(settings))
            reason = (f"retention: tasks {settings.task_retention_months} months, "
                      f"events {settings.event_retention_months} months")

            async def record(c: Any, p: partitions.Partition) -> None:
                # in the drop's transaction: a drop not recorded does not happen
                await audit.append(c, AuditEntry(
                    action="retention_drop", actor_login=operator, actor_role="operator", reason=reason,
                    target=p.name, details={"table": p.table, "month": p.month.isoformat() if p.month else None,
                                            "rows": p.rows},
                ))

            result = await partitions.drop_expired(conn, task_months=settings.task_retention_months,
                                                   event_months=settings.event_retention_months, record=record)
            for p in result.dropped:
                print(f"dropped {p.name} ({p.rows} rows) / 已删除分区")
            for p, why in result.kept:
                print(f"kept {p.name}: {why} / 已保留分区")
            status = 1 if result.kept else 0
        rows = await partitions.list_partitions(conn)
    finally:
        await conn.close()
    print(f"{'table':<14}{'partition':<24}{'month':<10}{'rows':>12}")
    for p in rows:
        month = p.month.strftime("%Y-%m") if p.month else "default"
        print(f"{p.table:<14}{p.name:<24}{month:<10}{p.rows:>12}")
    return status


async def _check(settings: Settings) -> int:
    import asyncpg

    from enforcement.kernel.integrity import dangling_references
    from enforcement.kernel.pool import init_connection, resolve_database_url

    dsn = await asyncio.get_running_loop().run_in_executor(None, resolve_database_url, settings)
    conn = await asyncpg.connect(dsn)
    await init_connection(conn)
    try:
        found = await dangling_references(conn)
    finally:
        await conn.close()
    print(f"{'rows of':<16}{'pointing at':<30}{'dangling':>10}")
    for d in found:
        print(f"{d.child:<16}{d.reference:<30}{d.rows:>10}")
    bad = sum(d.rows for d in found)
    print("every reference holds / 引用完整" if not bad else f"{bad} rows point at nothing / {bad} 行引用缺失")
    return 1 if bad else 0


def cmd_db(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.action == "schema":
        return cmd_schema(settings, write=args.write)
    if args.action == "check":
        return asyncio.run(_check(settings))
    if args.action == "partitions":
        import getpass

        from enforcement.kernel.logging import configure_logging

        configure_logging(settings.log_level, json_output=settings.log_json)
        operator = os.environ.get("ENFORCEMENT_OPERATOR") or getpass.getuser()
        return asyncio.run(_partitions(settings, drop_expired=args.drop_expired, operator=operator))
    if settings.database_url:
        print(f"DATABASE_URL is set; the embedded server is not used ({args.action} does nothing)")
        return 0 if args.action in ("status", "url") else 2
    server = EmbeddedPostgres(settings.data_dir / "postgres")
    if args.action == "start":
        print(server.start())
    elif args.action == "stop":
        server.stop()
        print("stopped")
    elif args.action == "status":
        print("running" if server.is_running() else "stopped")
    else:
        print(server.dsn() if server.is_running() else "not running")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("db", help="the embedded PostgreSQL (when no DATABASE_URL is set)")
    p.add_argument("action", choices=["start", "stop", "status", "url", "schema", "partitions", "check"])
    p.add_argument("--write", action="store_true", help="schema: write enforcement/kernel/schema.sql")
    p.add_argument("--drop-expired", action="store_true",
                   help="partitions: drop the months past TASK_RETENTION_MONTHS / EVENT_RETENTION_MONTHS "
                        "that hold nothing unfinished (audited; exit 1 when one is kept)")
    p.set_defaults(func=cmd_db)
