"""The re-query schedule's storage: rounds per 终本 debtor, claimed with SKIP LOCKED.

``RequeryStore.transaction()`` owns the transaction in which due rounds are claimed, each one's
search is created (through the search port, which is handed the transaction as ``tx.handle``:
see ``enforcement.searches.port``) and the rounds are marked submitted: a round is searched once
even with many workers, and a crash in between leaves it pending (nothing was sent: the search's
tasks did not commit either). Completing rounds and raising the dishonest-listing removal alert
is another such transaction. Values are frozen, never driver rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

import asyncpg

from enforcement.cases.store.alerts import NewAlert, raise_alert_on
from enforcement.domain.schedule import PostClosureSearch
from enforcement.domain.subjects import SubjectKind
from enforcement.kernel.audit import Conn
from enforcement.kernel.queries import Q


@dataclass(frozen=True, slots=True)
class DueRound:
    """A pending round due to start, locked, with its debtor."""

    id: int
    case_id: int
    party_id: int
    round: int
    due_on: date
    run_on: date
    kind: SubjectKind
    id_number: str
    name: str

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> DueRound:
        return cls(int(r["id"]), int(r["case_id"]), int(r["party_id"]), int(r["round"]), r["due_on"], r["run_on"],
                   r["kind"], r["id_number"], r["name"])


@dataclass(frozen=True, slots=True)
class DoneRound:
    """A round whose search completed, with how many properties it saw for the first time."""

    id: int
    case_id: int
    party_id: int
    round: int
    search_id: UUID
    new_assets: int

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> DoneRound:
        return cls(int(r["id"]), int(r["case_id"]), int(r["party_id"]), int(r["round"]), r["search_id"],
                   int(r["new_assets"]))


@dataclass(frozen=True, slots=True)
class RemovalFacts:
    """What the dishonest-listing removal rule reads of a case."""

    case_id: int
    closure_mode: str | None
    closed_on: date | None
    listing_event_id: int | None
    listed_on: date | None
    delisted_on: date | None
    leads_after: int
    searches: tuple[PostClosureSearch, ...]  # post-closure network searches, re-query and the judge's

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> RemovalFacts:
        searches = tuple(PostClosureSearch(d, bool(f), str(s)) for d, f, s in
                         zip(r["search_done_on"] or (), r["search_found"] or (), r["search_source"] or (), strict=True))
        return cls(int(r["id"]), r["closure_mode"], r["closed_on"], r["listing_event_id"], r["listed_on"],
                   r["delisted_on"], int(r["leads_after"]), searches)


class RequeryTx:
    """One open re-query transaction (from ``RequeryStore.transaction``)."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    @property
    def handle(self) -> object:
        """The transaction, opaque to the holder, for the search port to write the search in."""
        return self._conn

    async def sweep_missed(self, today: date, interval_days: int) -> int:
        """Pending rounds whose window passed become missed; how many."""
        return len(await self._conn.fetch(Q.sweep_missed_rounds, today, interval_days))

    async def claim_due(self, today: date, interval_days: int, limit: int) -> list[DueRound]:
        return [DueRound.from_row(r) for r in await self._conn.fetch(Q.claim_due_requeries, today, interval_days,
                                                                      limit)]

    async def mark_submitted(self, round_ids: Sequence[int], search_ids: Sequence[UUID], at: datetime) -> None:
        await self._conn.execute(Q.mark_rounds_submitted, list(round_ids), list(search_ids), at)

    async def mark_missed(self, round_ids: Sequence[int]) -> None:
        if round_ids:
            await self._conn.execute(Q.mark_rounds_missed, list(round_ids))

    async def complete_rounds(self, at: datetime, property_kinds: Sequence[str], limit: int) -> list[DoneRound]:
        return [DoneRound.from_row(r)
                for r in await self._conn.fetch(Q.complete_requery_rounds, at, list(property_kinds), limit)]

    async def removal_facts(self, case_id: int, property_kinds: Sequence[str],
                            categories: Sequence[str]) -> RemovalFacts | None:
        row = await self._conn.fetchrow(Q.dishonest_removal_facts, case_id, list(property_kinds), list(categories))
        return None if row is None else RemovalFacts.from_row(row)

    async def removal_candidates(self, limit: int) -> list[int]:
        """终本 cases still listed, without a removal alert, with a judge's search after the closure."""
        return [int(r["id"]) for r in await self._conn.fetch(Q.removal_candidates, limit)]

    async def raise_alert(self, alert: NewAlert) -> bool:
        return await raise_alert_on(self._conn, alert)


class RequeryStore:
    """The re-query schedule's store."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[RequeryTx]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield RequeryTx(conn)

    async def backlog(self, today: date) -> tuple[int, int]:
        """(pending rounds already due to start, searches submitted but not completed)."""
        row = await self.pool.fetchrow(Q.requery_backlog, today)
        assert row is not None
        return int(row["due"]), int(row["in_flight"])


__all__ = ["DoneRound", "DueRound", "RemovalFacts", "RequeryStore", "RequeryTx"]
