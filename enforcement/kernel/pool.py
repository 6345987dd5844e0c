"""The asyncpg pool: JSON codecs, sizes, and the embedded server when no URL is given."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from enforcement.kernel.embedded import EmbeddedPostgres
from enforcement.kernel.settings import Settings


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


async def init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=_dumps, decoder=json.loads, schema="pg_catalog")


def resolve_database_url(settings: Settings) -> str:
    """``DATABASE_URL`` if set, else the embedded server in the data folder (started if needed)."""
    if settings.database_url:
        return settings.database_url
    return EmbeddedPostgres(settings.data_dir / "postgres").start()


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default ``RESET ALL; UNLISTEN *; ...`` round trip: the service
    keeps no session state on pooled connections (LISTEN uses dedicated connections; advisory
    locks are released explicitly), and the reset cost one round trip per query."""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        reset=_keep_session,
        command_timeout=60,
        max_inactive_connection_lifetime=300,
    )
    assert pool is not None
    return pool


__all__ = ["create_pool", "init_connection", "resolve_database_url"]
