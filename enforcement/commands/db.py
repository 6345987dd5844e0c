"""``enforcement db start|stop|status|url``: the embedded PostgreSQL used when no DATABASE_URL is set."""

from __future__ import annotations

import argparse
from typing import Any

from enforcement.kernel.embedded import EmbeddedPostgres
from enforcement.kernel.settings import Settings


def cmd_db(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
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
    p.add_argument("action", choices=["start", "stop", "status", "url"])
    p.set_defaults(func=cmd_db)
