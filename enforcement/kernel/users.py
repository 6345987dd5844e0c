"""Users of the service (judges, supervisors, operations, agencies, case systems) and courts."""

from __future__ import annotations

import asyncpg

from enforcement.domain.actors import ROLES, Actor
from enforcement.kernel.audit import Conn
from enforcement.kernel.queries import Q


def actor_from_row(row: asyncpg.Record) -> Actor:
    role = row["role"]
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} for user {row['login']!r}")
    return Actor(row["login"], role, row["display_name"], row["court_code"], row["officer_id"], row["agency"])


async def load_active_user(conn: asyncpg.Pool | Conn, login: str) -> Actor | None:
    row = await conn.fetchrow(Q.active_user, login)
    return None if row is None else actor_from_row(row)


__all__ = ["actor_from_row", "load_active_user"]
