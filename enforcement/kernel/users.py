"""Users of the service (judges, supervisors, operations, agencies, case systems) and courts, as
the edge needs them: who a token names, whom the demo sign-in offers, a court's name.

``UserStore(pool)`` owns its queries and returns frozen values (``Actor``, ``SignInUser``); no
driver type leaves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web

from enforcement.domain.actors import ROLES, Actor
from enforcement.kernel.audit import Conn
from enforcement.kernel.queries import Q


def actor_from_row(row: asyncpg.Record | Mapping[str, Any]) -> Actor:
    """An ``app_user`` row as an ``Actor``; raises ValueError on a role the service does not know."""
    role = row["role"]
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} for user {row['login']!r}")
    return Actor(row["login"], role, row["display_name"], row["court_code"], row["officer_id"], row["agency"])


@dataclass(frozen=True, slots=True)
class SignInUser:
    """A judge or supervisor the demo sign-in offers, with their court's name."""

    login: str
    display_name: str
    role: str
    court_code: str | None
    court_name: str | None

    @classmethod
    def from_row(cls, row: asyncpg.Record | Mapping[str, Any]) -> SignInUser:
        """A ``sign_in_user(s)`` row."""
        return cls(row["login"], row["display_name"], row["role"], row["court_code"], row["court_name"])

    def to_dict(self) -> dict[str, str | None]:
        """The user as the demo sign-in answers it."""
        return {
            "login": self.login,
            "display_name": self.display_name,
            "role": self.role,
            "court_code": self.court_code,
            "court_name": self.court_name,
        }


async def load_active_user(conn: asyncpg.Pool | Conn, login: str) -> Actor | None:
    """The active user of ``login`` (an entry point's one-off look-up), or None."""
    row = await conn.fetchrow(Q.active_user, login)
    return None if row is None else actor_from_row(row)


class UserStore:
    """Users and courts, read-only."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def active(self, login: str) -> Actor | None:
        """The active user ``login`` names (what a bearer token's subject means), or None when
        there is none or the account is deactivated."""
        return await load_active_user(self._pool, login)

    async def sign_in_users(self) -> list[SignInUser]:
        """The active judges and supervisors the demo sign-in lists, court by court."""
        return [SignInUser.from_row(r) for r in await self._pool.fetch(Q.sign_in_users)]

    async def sign_in_user(self, login: str) -> SignInUser | None:
        """That active judge or supervisor, or None (another role, unknown or deactivated)."""
        row = await self._pool.fetchrow(Q.sign_in_user, login)
        return None if row is None else SignInUser.from_row(row)

    async def court_name(self, court_code: str | None) -> str | None:
        """The court's name, or None (no court given, or an unknown code)."""
        if not court_code:
            return None
        name = await self._pool.fetchval(Q.court_name_of, court_code)
        return None if name is None else str(name)


USERS = web.AppKey("users", UserStore)

__all__ = ["USERS", "SignInUser", "UserStore", "actor_from_row", "load_active_user"]
