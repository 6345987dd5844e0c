"""点对点 is written twice: ``domain.authorization.check_search`` (which refuses a search) and the
SQL block ``case_for_search_with_serial`` (which takes a 协助查询通知书 serial only for a search
that rule allows, so a refused search never consumes a number). This test runs both on every
caller of the authorization matrix, against the matrix's case in each status, with and without
its judge, for its debtor, another case's debtor and its applicant, and requires that they agree.
"""

from __future__ import annotations

import itertools

import asyncpg

from enforcement.domain.actors import Actor
from enforcement.domain.authorization import AccessDenied, CaseAccess, check_search
from enforcement.kernel.queries import Q
from enforcement.kernel.users import load_active_user
from enforcement.seeds import APPLICANTS, CASES, seed
from tests.acceptance.test_authorization_matrix import CALLERS, TARGET_NUMBER

# (status, closure mode): a 终本 closure allows the holding judge's search, other closures do not
STATUSES = (("open", None), ("suspended", None), ("closed", "终结本次执行程序"), ("closed", "执行完毕"),
            ("closed", "终结执行"))
OTHER_DEBTOR = CASES[-1][-1][0]  # a debtor of another court's case
APPLICANT = APPLICANTS[CASES[0][3]]


def python_allows(actor: Actor, row: asyncpg.Record) -> bool:
    case = CaseAccess(row["id"], row["court_code"], row["judge_login"], row["status"], row["closure_mode"])
    try:
        check_search(actor, case, subject_is_debtor=row["is_debtor"])
    except AccessDenied:
        return False
    return True


async def test_sql_and_python_agree_on_who_may_search(pool: asyncpg.Pool) -> None:
    ids = await seed(pool)
    case_id = ids[TARGET_NUMBER]
    target_debtor = CASES[0][-1][0]
    subjects = {"debtor": target_debtor, "other_debtor": OTHER_DEBTOR, "applicant": APPLICANT}
    actors = {name: await load_active_user(pool, who[0]) for name, who in CALLERS.items() if who is not None}
    assert all(actors.values()), "every caller of the matrix is a seeded user"
    checked = 0
    allowed = 0
    async with pool.acquire() as conn:
        for (status, mode), judge in itertools.product(STATUSES, ("zhangwei", None)):
            for (caller, actor), (label, subject) in itertools.product(actors.items(), subjects.items()):
                assert actor is not None
                tx = conn.transaction()
                await tx.start()
                try:
                    await conn.execute("UPDATE enforcement_case SET status = $2, judge_login = $3, closure_mode = $4,"
                                       " closed_on = CASE WHEN $4::text IS NULL THEN NULL ELSE current_date END"
                                       " WHERE id = $1", case_id, status, judge, mode)
                    row = await conn.fetchrow(Q.case_for_search_with_serial, case_id, subject.kind,
                                              subject.id_number, actor.login, actor.role, True)
                    # The same rule with the user loaded by the statement (the API's submission):
                    # as the token claims the user's role, claims none, or claims another.
                    folded = [await conn.fetchrow(Q.case_for_search_as_user, case_id, subject.kind,
                                                  subject.id_number, actor.login, claimed, True)
                              for claimed in (actor.role, None, "supervisor" if actor.role == "judge" else "judge")]
                finally:
                    await tx.rollback()  # a serial taken here is not kept
                assert row is not None
                sql_allows = row["serial"] is not None
                assert sql_allows == python_allows(actor, row), (status, mode, judge, caller, label)
                assert [(f["serial"] is not None) for f in folded] == [sql_allows, sql_allows, False], \
                    (status, mode, judge, caller, label)
                assert (folded[0]["user_login"], folded[0]["user_role"]) == (actor.login, actor.role)
                case_columns = {k: v for k, v in dict(row).items() if k != "serial"}
                assert {k: dict(folded[0])[k] for k in case_columns} == case_columns
                checked += 1
                allowed += sql_allows
    assert checked == len(STATUSES) * 2 * len(actors) * len(subjects)
    assert allowed == 2  # only the judge holding the case, open or closed as 终本, for its debtor


async def test_the_folded_lookup_knows_no_deactivated_or_unknown_user_and_takes_no_number(pool: asyncpg.Pool) -> None:
    ids = await seed(pool)
    case_id = ids[TARGET_NUMBER]
    debtor = CASES[0][-1][0]
    login = CALLERS["judge_own"][0]  # type: ignore[index]
    await pool.execute("UPDATE app_user SET active = false WHERE login = $1", login)
    for who in (login, "nobody"):
        row = await pool.fetchrow(Q.case_for_search_as_user, case_id, debtor.kind, debtor.id_number, who, "judge",
                                  True)
        assert (row["user_login"], row["id"], row["serial"]) == (None, case_id, None)
    row = await pool.fetchrow(Q.case_for_search_as_user, -1, debtor.kind, debtor.id_number, "lina", "judge", True)
    assert (row["user_login"], row["id"], row["serial"]) == ("lina", None, None)
    assert await pool.fetchval("SELECT count(*) FROM document_serial") == 0
