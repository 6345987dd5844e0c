"""Migration 0011 on a database written before it: every case gets its number key (the SQL rule
equal to domain.cases.case_number_key) and its number as written; two rows that are one case
under the new rule (the old re-push stored 执877号 beside the seeded 执0877号) stay two rows, the
later one marked, nothing merged or lost; the SQL key equals the Python key on every variant."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from enforcement.domain.cases import case_number_key
from enforcement.kernel.migrate import MIGRATIONS_DIR, apply_migrations
from tests.pg import with_database

VARIANTS = [
    "（2026）辽0103执0877号", "(2026)辽0103执877号", "（２０２６）辽０１０３执０８７７号",
    " （2026） 辽0103 执0877号\u3000",
    "（2025）辽0102执恢0017号", "(2025)辽0102执保９９０５号", "（2025）辽0102执000001号",
]


async def test_rows_written_before_0011_get_keys_and_duplicates_are_marked(pg_admin: tuple[str, Any],
                                                                             tmp_path: Path) -> None:
    admin_dsn, _ = pg_admin
    name = f"m_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        before = tmp_path / "before"
        before.mkdir()
        for path in MIGRATIONS_DIR.glob("*.sql"):
            if int(path.name[:4]) < 11:
                shutil.copy(path, before / path.name)
        conn = await asyncpg.connect(with_database(admin_dsn, name))
        try:
            await apply_migrations(conn, before)
            await conn.execute("INSERT INTO court (code, name, province) VALUES ('辽0103', '沈河', '辽宁省')")
            for number in ("（2026）辽0103执0877号", "（2026）辽0103执877号", "（2026）辽0103执1号"):
                await conn.execute(
                    "INSERT INTO enforcement_case (case_number, court_code, case_type, applicant_name, filed_on) "
                    "VALUES ($1, '辽0103', '执', '申请人', '2026-01-05')", number)
            assert 11 in await apply_migrations(conn)
            rows = [tuple(r) for r in await conn.fetch(
                "SELECT id, case_number, case_number_key, case_number_as_written FROM enforcement_case ORDER BY id")]
            assert rows == [
                (1, "（2026）辽0103执0877号", "（2026）辽0103执877号", "（2026）辽0103执0877号"),
                (2, "（2026）辽0103执877号（重复，见案件1）", "（2026）辽0103执877号（重复，见案件1）",
                 "（2026）辽0103执877号（重复，见案件1）"),
                (3, "（2026）辽0103执1号", "（2026）辽0103执1号", "（2026）辽0103执1号"),
            ]
            for raw in VARIANTS:
                assert await conn.fetchval("SELECT case_number_key($1)", raw) == case_number_key(raw), raw
            with pytest.raises(asyncpg.UniqueViolationError):
                await conn.execute(
                    "INSERT INTO enforcement_case (case_number, court_code, case_type, applicant_name, filed_on) "
                    "VALUES ('（2026）辽0103执00001号', '辽0103', '执', '申请人', '2026-01-05')")
        finally:
            await conn.close()
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()
