"""enforcement/kernel/schema.sql is what the migrations give: a fresh database, every migration
applied, dumped with pg_dump --schema-only and normalized, is the snapshot, line for line
(procrastinate's tests/migration habit). After a new migration: `enforcement db schema --write`."""

from __future__ import annotations

import difflib
from typing import Any

from enforcement.kernel.schema import SNAPSHOT, migrated_schema, normalize


async def test_migrations_produce_the_schema_snapshot(pg_admin: tuple[str, Any]) -> None:
    admin_dsn, _ = pg_admin
    produced = await migrated_schema(admin_dsn)
    kept = SNAPSHOT.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(kept.splitlines(True), produced.splitlines(True), "schema.sql",
                                        "migrations", n=1))
    assert produced == kept, f"the migrations and schema.sql differ (enforcement db schema --write):\n{diff[:4000]}"
    assert "CREATE TABLE public.enforcement_case" in kept and "CREATE TABLE public.audit_log" in kept


def test_normalize_keeps_statements_and_drops_what_changes_between_dumps() -> None:
    dump = ("--\n-- PostgreSQL database dump\n--\n\\restrict AbC123\nSET statement_timeout = 0;\n"
            "SELECT pg_catalog.set_config('search_path', '', false);\n\n\n\nCREATE TABLE public.t (\n"
            "    id bigint\n);   \n\n\n\\unrestrict AbC123\n")
    assert normalize(dump) == "CREATE TABLE public.t (\n    id bigint\n);\n"
