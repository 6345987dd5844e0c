"""Migration 0036 on a database written before it: a resolved alert's acknowledged_* (its resolver,
as written then) move to resolved_*; an open or acknowledged alert keeps its acknowledgement; a
control marked lapsed with no lapse alert (the crash between the watch's two transactions) gets
it, once; one with its alert gets no second."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from enforcement.kernel.migrate import MIGRATIONS_DIR, apply_migrations
from tests.pg import with_database


async def test_0036_moves_resolvers_and_raises_missing_lapse_alerts(pg_admin: tuple[str, Any], tmp_path: Path) -> None:
    admin_dsn, _ = pg_admin
    name = f"m_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        before = tmp_path / "before"
        before.mkdir()
        for path in MIGRATIONS_DIR.glob("*.sql"):
            if int(path.name[:4]) < 36:
                shutil.copy(path, before / path.name)
        conn = await asyncpg.connect(with_database(admin_dsn, name))
        try:
            await apply_migrations(conn, before)
            await conn.execute("INSERT INTO court (code, name, province) VALUES ('辽0103', '沈河', '辽宁省')")
            case = await conn.fetchval(
                "INSERT INTO enforcement_case (case_number, court_code, case_type, applicant_name, filed_on) "
                "VALUES ('（2026）辽0103执1号', '辽0103', '执', '申请人', '2026-01-05') RETURNING id")
            controls = [await conn.fetchval(
                "INSERT INTO measure (case_id, kind, asset_kind, agency, target_key, target, subject_kind, "
                "  subject_id_number, subject_name, ruling_number, ruled_on, document_number, case_number, "
                "  court_code, judge_login, judge_name, judge_officer_id, requested_by, idempotency_key, request_no, "
                "  deadline_at, status, task_status, expires_on) "
                "VALUES ($1, 'freeze', 'bank_account', 'banks', $2, $2, 'person', '1', '甲', 'R', '2026-01-05', $2, "
                "  '（2026）辽0103执1号', '辽0103', 'j', '法官', 'o', 'j', $2, $2, now(), 'lapsed', 'answered', "
                "  '2026-06-30') RETURNING id", case, key) for key in ("k1", "k2")]
            await conn.execute(  # the second control's lapse alert was raised; the first's was lost
                "INSERT INTO case_alert (kind, dedupe_key, case_id, due_on, evidence) "
                "VALUES ('measure_lapsed', $1, $2, '2026-06-30', '{}')",
                f"measure_lapsed:{controls[1]}:2026-06-30", case)
            for key, status, by in (("a", "resolved", "system"), ("b", "acknowledged", "j")):
                await conn.execute(
                    "INSERT INTO case_alert (kind, dedupe_key, case_id, status, acknowledged_by, acknowledged_at) "
                    "VALUES ('new_property', $1, $2, $3, $4, '2026-07-01T00:00:00Z')", key, case, status, by)
            assert 36 in await apply_migrations(conn)
            rows = {r["dedupe_key"]: dict(r) for r in await conn.fetch(
                "SELECT dedupe_key, status, acknowledged_by, resolved_by, resolved_at IS NOT NULL AS at, evidence "
                "FROM case_alert")}
            assert (rows["a"]["acknowledged_by"], rows["a"]["resolved_by"], rows["a"]["at"]) == (None, "system", True)
            assert (rows["b"]["acknowledged_by"], rows["b"]["resolved_by"], rows["b"]["at"]) == ("j", None, False)
            raised = rows[f"measure_lapsed:{controls[0]}:2026-06-30"]
            assert raised["status"] == "open" and json.loads(raised["evidence"]) == {
                "kind": "freeze", "asset": "k1", "measure_id": controls[0], "expired_on": "2026-06-30"}
            assert len(rows) == 4, rows
        finally:
            await conn.close()
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()
