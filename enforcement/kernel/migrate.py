"""Numbered migrations (``migrations/NNNN_name.sql``), applied once each, in order, under an
advisory lock so that several processes starting together do not race.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import structlog

from enforcement.kernel.partitions import ensure_ahead

log = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x656E_666F  # "enfo"


@dataclass(frozen=True, slots=True)
class Migration:
    number: int
    name: str
    sql: str

    @classmethod
    def from_path(cls, path: Path) -> Migration:
        """The migration a ``NNNN_name.sql`` file holds; raises ValueError on another name."""
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file {path.name!r} is not named NNNN_name.sql")
        return cls(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8"))


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations in ``directory``, in order; raises ValueError on a badly named or duplicate number."""
    migrations = [Migration.from_path(p) for p in sorted(directory.glob("*.sql"))]
    numbers = [m.number for m in migrations]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"two migrations share a number: {numbers}")
    return sorted(migrations, key=lambda m: m.number)


async def apply_migrations(
    conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy, directory: Path = MIGRATIONS_DIR
) -> list[int]:
    """Apply every migration not yet applied; return the numbers applied now."""
    applied_now: list[int] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migration (
                   number integer PRIMARY KEY, name text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {r["number"] for r in await conn.fetch("SELECT number FROM schema_migration")}
        for migration in discover(directory):
            if migration.number in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migration (number, name) VALUES ($1, $2)",
                    migration.number,
                    migration.name,
                )
            applied_now.append(migration.number)
            log.info("migration_applied", number=migration.number, migration=migration.name)
        if await conn.fetchval("SELECT to_regproc('ensure_month_partitions') IS NOT NULL"):
            # the coming months' partitions of agency_task and search_event (migration 0021)
            await ensure_ahead(conn)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now


__all__ = ["MIGRATIONS_DIR", "Migration", "apply_migrations", "discover"]
