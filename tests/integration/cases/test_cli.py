"""``enforcement indicators``: the table, the judge breakdown, CSV out, and the drill-down."""

from __future__ import annotations

import asyncio
import csv
import os
import sys
from datetime import date
from pathlib import Path

import asyncpg

from tests.integration.cases.helpers import JUDGE_A, JUDGE_B, make_world


async def run_cli(db_url: str, tmp_path: Path, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": db_url, "ENFORCEMENT_DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "enforcement.cli", "indicators", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_table_csv_and_cases(pool: asyncpg.Pool, db_url: str, tmp_path: Path) -> None:
    w = await make_world(pool)
    a = await w.case(JUDGE_A, date(2025, 1, 10))
    await w.event(a, "closed", date(2025, 5, 20), mode="执行完毕")       # deadline 2025-07-10: in time
    b = await w.case(JUDGE_B, date(2025, 2, 1))                          # deadline 2025-08-01: still open
    window = ("--from", "2025-01-01", "--to", "2025-12-31", "--court", "辽0102")

    table = await run_cli(db_url, tmp_path, *window, "--by", "judge")
    line = next(x for x in table.splitlines() if x.startswith("statutory_closure_rate"))
    assert "50.00%" in line and "90.00%" in line and " NO " in line  # 1 of 2, target 90%, missed
    assert any(x.strip().startswith("张伟") and "100.00%" in x for x in table.splitlines())
    assert any(x.strip().startswith("李娜") and "0.00%" in x for x in table.splitlines())

    out = tmp_path / "indicators.csv"
    await run_cli(db_url, tmp_path, *window, "--csv", str(out))
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    total = next(r for r in rows if r["indicator"] == "statutory_closure_rate" and r["level"] == "total")
    assert (total["numerator"], total["denominator"], total["value"]) == ("1", "2", "0.5")

    cases = await run_cli(db_url, tmp_path, *window, "--cases", "statutory_closure_rate")
    number = await pool.fetchval("SELECT case_number FROM enforcement_case WHERE id = $1", b)
    assert number in cases and "statutory period ended on 2025-08-01 without closure" in cases
