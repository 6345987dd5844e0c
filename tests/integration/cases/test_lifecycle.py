"""The lifecycle service with cases written by other paths: a case pushed already closed as 终本
gets its verdict and its re-query rounds on reconciliation; a correction of its closure cancels
them; a status the case system pushed stands when the events say nothing about it."""

from __future__ import annotations

from datetime import date

import asyncpg

from tests.integration.cases.helpers import JUDGE_A, SUPERVISOR, make_world


async def test_a_case_pushed_closed_as_zhongben_is_reconciled(pool: asyncpg.Pool) -> None:
    w = await make_world(pool)
    case_id = await w.case(JUDGE_A, date(2024, 1, 10))
    await w.complete_zhongben_file(case_id, date(2024, 3, 1))
    # The case registry pushes the closure as a field of the case, not as an event.
    await pool.execute("UPDATE enforcement_case SET status = 'closed', closure_mode = '终结本次执行程序', "
                       "closed_on = '2024-06-01' WHERE id = $1", case_id)
    assert await w.lifecycle.reconcile() >= 1
    row = await pool.fetchrow("SELECT zb_qualified, zb_missing, requery_for FROM case_lifecycle WHERE case_id = $1",
                              case_id)
    assert (row["zb_qualified"], row["zb_missing"], row["requery_for"]) == (True, [], date(2024, 6, 1))
    assert await pool.fetchval("SELECT count(*) FROM requery_round WHERE case_id = $1 AND status = 'pending'",
                               case_id) == 10
    assert await w.lifecycle.reconcile() == 0  # nothing stale any more

    # The closure was wrong: the case system corrects it to 执行完毕. The rounds go.
    await pool.execute("UPDATE enforcement_case SET closure_mode = '执行完毕' WHERE id = $1", case_id)
    assert await w.lifecycle.reconcile() == 1
    assert await pool.fetchval("SELECT count(*) FROM requery_round WHERE case_id = $1 AND status = 'pending'",
                               case_id) == 0
    check = await w.lifecycle.closure_check(SUPERVISOR, case_id)
    assert check["as_of"] != "2024-06-01"  # no longer a 终本 case: checked as of today


async def test_an_incomplete_pushed_closure_counts_as_not_qualified(pool: asyncpg.Pool) -> None:
    w = await make_world(pool)
    case_id = await w.case(JUDGE_A, date(2024, 1, 10))
    await pool.execute("UPDATE enforcement_case SET status = 'closed', closure_mode = '终结本次执行程序', "
                       "closed_on = '2024-03-01' WHERE id = $1", case_id)
    await w.lifecycle.reconcile()
    row = await pool.fetchrow("SELECT zb_qualified, zb_missing FROM case_lifecycle WHERE case_id = $1", case_id)
    assert row["zb_qualified"] is False
    assert "4:months_since_filing" in row["zb_missing"]  # 2024-03-01 is not more than 3 months after filing
    # The checklist of a 终本 case is shown as of its closure date by default.
    check = await w.lifecycle.closure_check(SUPERVISOR, case_id)
    assert check["as_of"] == "2024-03-01" and check["ready"] is False


async def test_a_pushed_status_stands_when_events_do_not_speak_of_it(pool: asyncpg.Pool) -> None:
    w = await make_world(pool)
    case_id = await w.case(JUDGE_A, date(2025, 1, 10))
    await pool.execute("UPDATE enforcement_case SET status = 'suspended' WHERE id = $1", case_id)
    await w.event(case_id, "notice_served", date(2025, 1, 15))
    assert await pool.fetchval("SELECT status FROM enforcement_case WHERE id = $1", case_id) == "suspended"
    await w.event(case_id, "suspension_started", date(2025, 2, 1))
    await w.event(case_id, "suspension_ended", date(2025, 3, 1))
    assert await pool.fetchval("SELECT status FROM enforcement_case WHERE id = $1", case_id) == "open"
