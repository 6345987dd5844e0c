"""What the web workbench reads for signing in: the users the demo offers and court names."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from enforcement.kernel.queries import Q


@dataclass(frozen=True, slots=True)
class SignInUser:
    login: str
    display_name: str
    role: str
    court_code: str | None
    court_name: str | None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "login": self.login,
            "display_name": self.display_name,
            "role": self.role,
            "court_code": self.court_code,
            "court_name": self.court_name,
        }


async def sign_in_users(pool: asyncpg.Pool) -> list[SignInUser]:
    rows = await pool.fetch(Q.sign_in_users)
    return [SignInUser(r["login"], r["display_name"], r["role"], r["court_code"], r["court_name"]) for r in rows]


async def sign_in_user(pool: asyncpg.Pool, login: str) -> SignInUser | None:
    r = await pool.fetchrow(Q.sign_in_user, login)
    return None if r is None else SignInUser(r["login"], r["display_name"], r["role"], r["court_code"], r["court_name"])


async def court_name(pool: asyncpg.Pool, court_code: str | None) -> str | None:
    if not court_code:
        return None
    name = await pool.fetchval(Q.court_name_of, court_code)
    return None if name is None else str(name)


__all__ = ["SignInUser", "court_name", "sign_in_user", "sign_in_users"]
