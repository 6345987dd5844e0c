"""The consumption-restriction check's storage: the case (who may run it) and the persons an
organization debtor's order binds, read in the transaction in which their searches are made
(through the search port, handed ``tx.handle``: see ``enforcement.searches.port``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from enforcement.kernel.audit import Conn
from enforcement.kernel.queries import Q


@dataclass(frozen=True, slots=True)
class CaseForCheck:
    id: int
    case_number: str
    court_code: str
    judge_login: str | None
    status: str


@dataclass(frozen=True, slots=True)
class BoundPerson:
    """A responsible person of an organization debtor under an order in force, with his roles."""

    debtor_id_number: str
    debtor_name: str
    id_number: str
    name: str
    roles: tuple[str, ...]

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> BoundPerson:
        return cls(r["debtor_id_number"], r["debtor_name"], r["id_number"], r["name"], tuple(r["roles"]))


class BreachCheckTx:
    """One open transaction (from ``BreachCheckStore.transaction``); ``handle`` goes to the port."""

    def __init__(self, conn: Conn) -> None:
        self.handle: object = conn
        self._conn = conn

    async def bound_persons(self, case_id: int, debtor_id_number: str | None) -> list[BoundPerson]:
        return [BoundPerson.from_row(r) for r in await self._conn.fetch(Q.bound_persons_of_case, case_id,
                                                                       debtor_id_number)]


class BreachCheckStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def case(self, case_id: int) -> CaseForCheck | None:
        r = await self.pool.fetchrow(Q.case_for_breach_check, case_id)
        return None if r is None else CaseForCheck(int(r["id"]), r["case_number"], r["court_code"],
                                                   r["judge_login"], r["status"])

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[BreachCheckTx]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield BreachCheckTx(conn)


__all__ = ["BoundPerson", "BreachCheckStore", "BreachCheckTx", "CaseForCheck"]
