"""The court-wide list of renewals due (``measures_listed``, GET /api/v1/measures?state=due) reads a
range of the expiry index (``measure_expiry``), not the whole measure table: among 30,000 controls
expiring over three years, those due within the widest notice in force. Its rows carry their case's
judge, status and closure (what the offered renewal or release is decided by) from the same
statement."""

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


async def test_renewals_due_are_read_by_an_expiry_index_range(pool: asyncpg.Pool) -> None:
    await seed(pool)
    async with pool.acquire() as conn:
        court, judge = await conn.fetchrow("SELECT court_code, judge_login FROM enforcement_case "
                                           "WHERE judge_login IS NOT NULL ORDER BY id LIMIT 1")
        await conn.execute("""
            INSERT INTO measure (case_id, kind, asset_kind, agency, target_key, target, subject_kind,
                subject_id_number, subject_name, ruling_number, ruled_on, document_number, case_number, court_code,
                judge_login, judge_name, judge_officer_id, requested_by, idempotency_key, request_no, deadline_at,
                status, task_status, expires_on)
            SELECT c.id, 'freeze', 'bank_account', 'banks', 'k' || g, 't', 'person', 'x', 'n', 'r', $1::date, 'd' || g,
                   c.case_number, c.court_code, coalesce(c.judge_login, 'x'), 'j', 'o', 'j', 'key' || g, 'rq' || g,
                   now(), CASE WHEN g % 10 = 0 THEN 'released' ELSE 'active' END, 'answered',
                   $1::date + (g % 1095)::integer
            FROM generate_series(1, 30000) g
            JOIN LATERAL (SELECT * FROM enforcement_case ORDER BY id
                          OFFSET (g % (SELECT count(*) FROM enforcement_case)) LIMIT 1) c ON true""", TODAY)
        await conn.execute("ANALYZE measure")
        for court_code, judge_login in ((court, None), (court, judge), (None, judge)):
            rows = await conn.fetch("EXPLAIN (FORMAT JSON) " + Q.measures_listed, court_code, judge_login, "due",
                                    TODAY, 15, 200)
            scans: list[dict[str, Any]] = []
            raw = rows[0][0]
            _scans((json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"], scans)
            assert [s["Node Type"] for s in scans] in (["Index Scan"], ["Bitmap Heap Scan"]), scans
            text = json.dumps(scans)
            assert "measure_expiry" in text and "expires_on <=" in text, text
            listed = await conn.fetch(Q.measures_listed, court_code, judge_login, "due", TODAY, 15, 200)
            assert listed and {r["listed_state"] for r in listed} == {"due"}
            assert all(r["case_status"] == "open" and r["case_court_code"] == r["court_code"] for r in listed)
