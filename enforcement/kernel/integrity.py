"""References checked by construction, verified: ``enforcement db check``.

Migration 0027 (decision 1925) dropped the foreign keys of the rows a search's own statements
write (a task's answer, answers, asset records, first sightings, events): each is written from, or in the
same statement as, the row it points to, and nothing deletes those rows, so the checks could not
fail and cost a trigger and a row lock each, about 38 a search. This module is what replaces
them: one read that counts, for each such reference, the rows that point at nothing. It is run by
an operator (``enforcement db check``, exit 1 when anything dangles) and by the acceptance tests
after the crash, fault and restart tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from enforcement.kernel.audit import Conn
from enforcement.kernel.queries import Q


@dataclass(frozen=True, slots=True)
class Dangling:
    """One reference and how many rows of ``child`` point at no ``reference``."""

    child: str
    reference: str
    rows: int


async def dangling_references(conn: Conn | asyncpg.Pool) -> list[Dangling]:
    """Every reference checked by construction, with its dangling rows (0 when sound)."""
    return [Dangling(r["child"], r["reference"], int(r["dangling"])) for r in await conn.fetch(Q.dangling_references)]

