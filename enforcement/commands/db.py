"""``enforcement db start|stop|status|url``: the embedded PostgreSQL used when no DATABASE_URL is set.

``enforcement db schema [--write]``: the schema every migration gives (a fresh database on that
server, migrated, dumped, dropped), printed, or written to ``enforcement/kernel/schema.sql``.
"""

from __future__ import annotations

import argparse
import asyncio
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


def cmd_db(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.action == "schema":
        return cmd_schema(settings, write=args.write)
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
    p.add_argument("action", choices=["start", "stop", "status", "url", "schema"])
    p.add_argument("--write", action="store_true", help="schema: write enforcement/kernel/schema.sql")
    p.set_defaults(func=cmd_db)
