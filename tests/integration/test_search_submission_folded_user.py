"""A submission for a user not looked up yet (the API's, issue 19): the user is loaded by the
search's first statement, so a search is still two round trips in all, not three; the user is
settled (refused or accepted) before anything else is decided, and a refusal takes no number."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from enforcement.api.errors import Unauthenticated
from enforcement.domain.actors import Actor
from enforcement.kernel.queries import Q
from enforcement.searches.service import SearchRequest, SearchService
from enforcement.seeds import seed
from tests.integration.test_search_submission import JUDGE, NUMBER, SUBJECT, serial, service  # noqa: F401


class Unsettled:
    """What api.auth.PendingActor is to the service: a login, a claimed role, and settle."""

    def __init__(self, login: str, claimed_role: str | None = "judge") -> None:
        self.login = login
        self.claimed_role = claimed_role
        self.settled_with: list[Actor | None] = []

    async def settle(self, user: Actor | None) -> Actor:
        self.settled_with.append(user)
        if user is None or (self.claimed_role is not None and self.claimed_role != user.role):
            raise Unauthenticated(code="unknown_user" if user is None else "role_mismatch")
        return user


async def test_the_user_comes_with_the_case_in_two_statements(
    pool: asyncpg.Pool, service: tuple[SearchService, list[str]],  # noqa: F811
) -> None:
    searches, statements = service
    ids = await seed(pool)
    case_id = ids[NUMBER]
    await searches.submit(JUDGE, SearchRequest(case_id, SUBJECT))  # warm
    before = await serial(pool)
    statements.clear()
    who = Unsettled(JUDGE.login)
    await searches.submit(who, SearchRequest(case_id, SUBJECT, force_fresh=True), request_id="r-2")
    assert statements == [Q.case_for_search_as_user, Q.submit_search]
    assert [u.login if u else None for u in who.settled_with] == [JUDGE.login]
    assert await serial(pool) == before + 1
    row: Any = await pool.fetchrow("SELECT actor_login, actor_role, actor_court FROM audit_log "
                                   "WHERE request_id = 'r-2'")
    assert tuple(row) == (JUDGE.login, "judge", JUDGE.court_code)

    await pool.execute("UPDATE app_user SET active = false WHERE login = $1", JUDGE.login)
    for refused in (Unsettled(JUDGE.login), Unsettled("nobody")):
        with pytest.raises(Unauthenticated):
            await searches.submit(refused, SearchRequest(case_id, SUBJECT))
        assert refused.settled_with == [None]
    await pool.execute("UPDATE app_user SET active = true WHERE login = $1", JUDGE.login)
    with pytest.raises(Unauthenticated):
        await searches.submit(Unsettled(JUDGE.login, "supervisor"), SearchRequest(case_id, SUBJECT))
    assert await serial(pool) == before + 1, "a refused user took a notice number"
    assert await pool.fetchval("SELECT count(*) FROM search") == 2
