"""The court-wide list of renewals due (``measures_listed``, GET /api/v1/measures?state=due) reads a
range of the expiry index (``measure_expiry``), not the whole measure table: among 30,000 controls
expiring over three years, those due within the widest notice in force. Its rows carry their case's
judge, status and closure (what the offered renewal or release is decided by) from the same
statement. The lapses (state=lapsed, and the default list) are read by the lapsed index and the
expiry index's past, never a scan of the table; the alerts list finds a renewal-due alert's
follow-up by the follow-up index (``measure_follow_up``), not among its case's measures."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg

from enforcement.kernel.queries import Q
from enforcement.seeds import seed

TODAY = date(2026, 12, 7)


def _scans(plan: dict[str, Any], out: list[dict[str, Any]]) -> None:
    if plan.get("Relation Name") == "measure" and plan.get("Alias") == "m":
        out.append(plan)
    for sub in plan.get("Plans", ()):
        _scans(sub, out)


async def _controls(conn: Any) -> tuple[str, str]:
    """30,000 freezes spread over the seeded cases, expiring over three years from TODAY; one in ten
    released, one in fifty lapsed (expired in the past year); the first case's court and judge."""
    first = await conn.fetchrow("SELECT court_code, judge_login FROM enforcement_case "
                                "WHERE judge_login IS NOT NULL ORDER BY id LIMIT 1")
    await conn.execute("""
        INSERT INTO measure (case_id, kind, asset_kind, agency, target_key, target, subject_kind,
            subject_id_number, subject_name, ruling_number, ruled_on, document_number, case_number, court_code,
            judge_login, judge_name, judge_officer_id, requested_by, idempotency_key, request_no, deadline_at,
            status, task_status, expires_on)
        SELECT c.id, 'freeze', 'bank_account', 'banks', 'k' || g, 't', 'person', 'x', 'n', 'r', $1::date, 'd' || g,
               c.case_number, c.court_code, coalesce(c.judge_login, 'x'), 'j', 'o', 'j', 'key' || g, 'rq' || g,
               now(), CASE WHEN g % 10 = 0 THEN 'released' WHEN g % 50 = 1 THEN 'lapsed' ELSE 'active' END,
               'answered', CASE WHEN g % 50 = 1 THEN $1::date - 1 - (g % 365)::integer
                                ELSE $1::date + (g % 1095)::integer END
        FROM generate_series(1, 30000) g
        JOIN LATERAL (SELECT * FROM enforcement_case ORDER BY id
                      OFFSET (g % (SELECT count(*) FROM enforcement_case)) LIMIT 1) c ON true""", TODAY)
    return str(first["court_code"]), str(first["judge_login"])


async def _plan(conn: Any, sql: str, *args: object) -> dict[str, Any]:
    rows = await conn.fetch("EXPLAIN (FORMAT JSON) " + sql, *args)
    raw = rows[0][0]
    plan: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return plan


async def test_renewals_due_are_read_by_an_expiry_index_range(pool: asyncpg.Pool) -> None:
    await seed(pool)
    async with pool.acquire() as conn:
        court, judge = await _controls(conn)
        await conn.execute("ANALYZE measure")
        for court_code, judge_login in ((court, None), (court, judge), (None, judge)):
            scans: list[dict[str, Any]] = []
            _scans(await _plan(conn, Q.measures_listed, court_code, judge_login, "due", TODAY, 15, 200), scans)
            assert [s["Node Type"] for s in scans] in (["Index Scan"], ["Bitmap Heap Scan"]), scans
            text = json.dumps(scans)
            assert "measure_expiry" in text and "expires_on <=" in text, text
            listed = await conn.fetch(Q.measures_listed, court_code, judge_login, "due", TODAY, 15, 200)
            assert listed and {r["listed_state"] for r in listed} == {"due"}
            assert all(r["case_status"] == "open" and r["case_court_code"] == r["court_code"] for r in listed)


async def test_lapses_are_read_by_indexes_not_a_scan_of_the_table(pool: asyncpg.Pool) -> None:
    """GET /api/v1/measures?state=lapsed and the default list (no state: due, lapsed, awaiting
    approval) read the 600 lapsed controls of 30,000 by the lapsed index (and the controls past
    their expiry not yet marked lapsed by the expiry index), for a court, a judge, or both."""
    await seed(pool)
    async with pool.acquire() as conn:
        court, judge = await _controls(conn)
        await conn.execute("ANALYZE measure")
        for state in ("lapsed", None):
            for court_code, judge_login in ((court, None), (court, judge), (None, judge)):
                plan = await _plan(conn, Q.measures_listed, court_code, judge_login, state, TODAY, 15, 200)
                scans: list[dict[str, Any]] = []
                _scans(plan, scans)
                assert scans and all(s["Node Type"] != "Seq Scan" for s in scans), (state, scans)
                assert "measure_lapsed" in json.dumps(scans), (state, scans)
            listed = await conn.fetch(Q.measures_listed, court, None, "lapsed", TODAY, 15, 1000)
            assert len(listed) == await conn.fetchval(
                "SELECT count(*) FROM measure WHERE status = 'lapsed' AND court_code = $1", court) > 0
            assert {r["listed_state"] for r in listed} == {"lapsed"}


def _scans_of(plan: dict[str, Any], alias: str, out: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if plan.get("Relation Name") == "measure" and plan.get("Alias") == alias:
        out.append(plan)
    for sub in plan.get("Plans", ()):
        _scans_of(sub, alias, out)
    return out


async def test_an_alerts_follow_up_is_found_by_the_follow_up_index(pool: asyncpg.Pool) -> None:
    """The alerts list (and an alert) finds a renewal-due alert's renewal or release by the
    control's id in ``measure_follow_up``, not among the case's 5,000 measures (``measure_case``)."""
    await seed(pool)
    async with pool.acquire() as conn:
        court, judge = await _controls(conn)
        # the alerts first: a follow-up counts from its alert's raising on
        await conn.execute("""
            INSERT INTO case_alert (kind, dedupe_key, case_id, due_on, evidence)
            SELECT 'measure_renewal_due', 'a' || id, case_id, expires_on,
                   jsonb_build_object('measure_id', id, 'renew_url', '/api/v1/measures/' || id || ':renew')
            FROM measure WHERE kind = 'freeze' AND status = 'active' AND id % 30 = 3""")
        await conn.execute("""
            INSERT INTO measure (case_id, parent_id, kind, asset_kind, agency, target_key, target, subject_kind,
                subject_id_number, subject_name, ruling_number, ruled_on, document_number, case_number, court_code,
                judge_login, judge_name, judge_officer_id, requested_by, idempotency_key, request_no, deadline_at,
                status, task_status, expires_on)
            SELECT case_id, id, 'renew', asset_kind, agency, target_key, target, subject_kind, subject_id_number,
                   subject_name, ruling_number, ruled_on, 'f' || id, case_number, court_code, judge_login, judge_name,
                   judge_officer_id, requested_by, 'f' || id, 'f' || id, deadline_at, 'done', 'answered', expires_on
            FROM measure WHERE status = 'active' AND id % 5 = 3""")
        await conn.execute("ANALYZE measure; ANALYZE case_alert")
        for sql, args in ((Q.list_alerts, (court, None, "open", None, None, 50, 0)),
                          (Q.list_alerts, (None, judge, None, "measure_renewal_due", None, 50, 0)),
                          (Q.get_alert, (await conn.fetchval("SELECT max(id) FROM case_alert"),))):
            scans = _scans_of(await _plan(conn, sql, *args), "f", [])
            assert scans and all("measure_follow_up" in json.dumps(s) for s in scans), (args, scans)
        listed = await conn.fetch(Q.list_alerts, court, None, "open", None, None, 50, 0)
        assert listed and any(r["follow_up_kind"] == "renew" for r in listed)
