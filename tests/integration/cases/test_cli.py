"""``enforcement indicators``: through the API with a supervisor's token: the table, the judge
breakdown aligned by display width and limited to the supervisor's court, CSV out (audited as an
export), the drill-down; a bad date and a dead service end with a message and an exit code."""

from __future__ import annotations

import asyncio
import csv
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from enforcement.api.keys import POOL
from enforcement.commands.text_table import display_width
from enforcement.domain.actors import Actor
from tests.integration.cases.helpers import JUDGE_A, JUDGE_B, make_world

OTHER_JUDGE = Actor("wangfang", "judge", "王芳", "辽0103", "2101030012")


async def run_cli(api: Any, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "ENFORCEMENT_DATA_DIR": str(tmp_path), "ENFORCEMENT_URL": api.url("/").rstrip("/"),
           "LOG_LEVEL": "WARNING"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "enforcement.cli", "indicators", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_table_csv_and_cases_through_the_api(make_api: Any, tmp_path: Path) -> None:
    api = await make_api(role="api")
    pool = api.app[POOL]
    w = await make_world(pool)
    a = await w.case(JUDGE_A, date(2025, 1, 10))
    await w.event(a, "closed", date(2025, 5, 20), mode="执行完毕")       # deadline 2025-07-10: in time
    b = await w.case(JUDGE_B, date(2025, 2, 1))                          # deadline 2025-08-01: still open
    # A case of another court, which the supervisor of 辽0102 must not see.
    await pool.execute(
        """INSERT INTO enforcement_case (case_number, court_code, case_type, judge_login, applicant_name, cause,
                                         amount_to_enforce, filed_on)
           VALUES ('（2025）辽0103执9号', '辽0103', '执', $1, '申请人', '借款合同纠纷', 1000, '2025-01-05')""",
        OTHER_JUDGE.login)
    window = ("--from", "2025-01-01", "--to", "2025-12-31")

    code, table, err = await run_cli(api, tmp_path, *window, "--by", "judge", "--user", "chenjing")
    assert code == 0, err
    lines = table.splitlines()
    line = next(x for x in lines if x.startswith("statutory_closure_rate"))
    assert "50.00%" in line and "90.00%" in line and " NO " in line  # 1 of 2, target 90%, missed
    zhang = next(x for x in lines if x.strip().startswith("张伟（辽0102）"))
    li = next(x for x in lines if x.strip().startswith("李娜（辽0102）"))
    assert "100.00%" in zhang and "0.00%" in li
    # Aligned by display width: the value column ends in the same terminal cell on every row.
    assert display_width(zhang[: zhang.index("100.00%") + 7]) == display_width(line[: line.index("50.00%") + 6])
    assert "王芳" not in table and "辽0103" not in table  # the supervisor's court only

    out = tmp_path / "indicators.csv"
    before = await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'export' AND actor_login = 'chenjing'")
    code, _, err = await run_cli(api, tmp_path, *window, "--csv", str(out))
    assert code == 0, err
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    total = next(r for r in rows if r["indicator"] == "statutory_closure_rate" and r["level"] == "total")
    assert (total["numerator"], total["denominator"], total["value"]) == ("1", "2", "0.5")
    after = await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'export' AND actor_login = 'chenjing'")
    assert after == before + 1  # the export is in the audit trail

    code, cases, err = await run_cli(api, tmp_path, *window, "--cases", "statutory_closure_rate")
    assert code == 0, err
    number = await pool.fetchval("SELECT case_number FROM enforcement_case WHERE id = $1", b)
    assert number in cases and "statutory period ended on 2025-08-01 without closure" in cases


async def test_bad_date_dead_service_and_refusal_have_exit_codes(make_api: Any, tmp_path: Path) -> None:
    api = await make_api(role="api")
    code, _out, err = await run_cli(api, tmp_path, "--from", "2026-13-01")
    assert code == 2 and "Traceback" not in err
    assert "不是有效日期" in err and "is not a date" in err
    code, _out, err = await run_cli(api, tmp_path, "--url", "http://127.0.0.1:9")
    assert code == 3 and "Traceback" not in err
    assert "无法连接服务" in err and "cannot reach the service at http://127.0.0.1:9" in err
    code, _out, err = await run_cli(api, tmp_path, "--token", "not-a-token")
    assert code == 4 and "Traceback" not in err and "token_invalid" in err
