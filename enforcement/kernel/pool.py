"""The asyncpg pool: JSON codecs, sizes, and the embedded server when no URL is given; its typed
application keys (``POOL``, ``DSN``), and ``PoolProbe``, what the edge asks of the database
(ready? how busy?) without holding a driver type."""

from __future__ import annotations

import json
from typing import Any, Protocol

import asyncpg
import orjson
from aiohttp import web

from enforcement.kernel import metrics
from enforcement.kernel.embedded import EmbeddedPostgres
from enforcement.kernel.settings import Settings

# orjson writes what the standard library wrote (times, dates, dataclasses and anything else it
# does not know through ``str``; UTF-8, compact) 4-7x faster; integers past 64 bits, which it
# refuses, go through the standard library (decision 0706). Decoding stays with the standard
# library: orjson reads such integers as floats, losing digits.
_ORJSON = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, default=str, option=_ORJSON).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


async def init_connection(conn: asyncpg.Connection) -> None:
    """Every pooled connection: JSON and JSONB as Python values (UTF-8, compact)."""
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
    """The service's pool on ``dsn`` (JSON codecs, no reset round trip, 60 s statements)."""
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


class PoolLike(Protocol):
    def get_size(self) -> int: ...
    def get_idle_size(self) -> int: ...
    def get_max_size(self) -> int: ...


def observe_pool(pool: PoolLike) -> None:
    """This process's database pool: connections in use, idle, and the most it may open."""
    size, idle = pool.get_size(), pool.get_idle_size()
    metrics.DB_POOL_SIZE.labels(state="in_use").set(max(0, size - idle))
    metrics.DB_POOL_SIZE.labels(state="idle").set(idle)
    metrics.DB_POOL_MAX.set(pool.get_max_size())


class PoolProbe:
    """The database as health checks and the metrics exposition see it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ping(self) -> None:
        """One round trip (``SELECT 1``); raises whatever the driver raises when the database is away."""
        await self._pool.fetchval("SELECT 1")

    def observe(self) -> None:
        """Set this process's pool gauges (``observe_pool``)."""
        observe_pool(self._pool)


POOL = web.AppKey("pool", asyncpg.Pool)
DSN = web.AppKey("dsn", str)
POOL_PROBE = web.AppKey("pool_probe", PoolProbe)

__all__ = ["DSN", "POOL", "POOL_PROBE", "PoolLike", "PoolProbe", "create_pool", "init_connection", "observe_pool",
           "resolve_database_url"]
