"""``enforcement courts``: a court's own deduction approval amount, set on the database with its
audit record in the same transaction, listed beside the default; bad input changes nothing."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import asyncpg

from enforcement.commands.courts import parse_notice_days, parse_yuan


async def run(db_url: str, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": db_url, "ENFORCEMENT_DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING",
           "ENFORCEMENT_OPERATOR": "it-admin", "MEASURE_DEDUCTION_APPROVAL_YUAN": "100000",
           "MEASURE_RENEWAL_NOTICE_DAYS": "15"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "enforcement.cli", "courts", *args, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_set_list_and_back_to_the_default(pool: asyncpg.Pool, db_url: str, tmp_path: Path) -> None:
    await pool.execute("INSERT INTO court (code, name, province) VALUES ('辽0102', '沈阳市和平区人民法院', '辽宁') "
                       "ON CONFLICT DO NOTHING")
    code, out, err = await run(db_url, tmp_path, "set", "辽0102", "--deduction-approval-yuan", "50000")
    assert code == 0, err
    assert await pool.fetchval("SELECT measure_deduction_approval_yuan FROM court WHERE code = '辽0102'") == 50000
    audit = await pool.fetchrow("SELECT actor_login, actor_role, target, details FROM audit_log "
                                "WHERE action = 'court_setting'")
    assert audit is not None and audit["actor_login"] == "it-admin" and audit["actor_role"] == "operator"
    details = audit["details"] if isinstance(audit["details"], dict) else json.loads(audit["details"])
    assert audit["target"] == "court:辽0102" and details["to"] == "50000.00", details
    code, out, err = await run(db_url, tmp_path, "list")
    assert code == 0, err
    assert any(line.startswith("辽0102") and "50000.00" in line for line in out.splitlines()), out
    code, out, err = await run(db_url, tmp_path, "set", "辽0102", "--deduction-approval-yuan", "default")
    assert code == 0, err
    assert await pool.fetchval("SELECT measure_deduction_approval_yuan FROM court WHERE code = '辽0102'") is None
    code, out, err = await run(db_url, tmp_path, "list")
    assert any(line.startswith("辽0102") and "100000" in line and "默认" in line for line in out.splitlines()), out


async def test_bad_input_changes_nothing(pool: asyncpg.Pool, db_url: str, tmp_path: Path) -> None:
    await pool.execute("INSERT INTO court (code, name, province) VALUES ('辽0102', '沈阳市和平区人民法院', '辽宁') "
                       "ON CONFLICT DO NOTHING")
    for args, message in [(("set", "辽9999", "--deduction-approval-yuan", "1"), "no such court"),
                          (("set", "辽0102", "--deduction-approval-yuan", "-5"), "yuan"),
                          (("set", "辽0102", "--deduction-approval-yuan", "1.234"), "two decimals"),
                          (("set", "辽0102", "--deduction-approval-yuan", "many"), "yuan")]:
        code, out, err = await run(db_url, tmp_path, *args)
        assert code == 2 and message in err, (args, out, err)
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'court_setting'") == 0
    assert await pool.fetchval("SELECT measure_deduction_approval_yuan FROM court WHERE code = '辽0102'") is None


def test_amounts() -> None:
    assert parse_yuan("default") is None and parse_yuan(" 12.50 ") == parse_yuan("12.5")
    for bad in ("NaN", "Infinity", "1e20", "-0.01", "0.001", ""):
        try:
            parse_yuan(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


async def test_renewal_notice_days_set_listed_audited_and_back_to_the_default(pool: asyncpg.Pool, db_url: str,
                                                                              tmp_path: Path) -> None:
    """Issue 17: renewals due are alerted N days before the expiry, a court's own N (NULL: the
    deployment's MEASURE_RENEWAL_NOTICE_DAYS), set with its audit record in the same transaction."""
    await pool.execute("INSERT INTO court (code, name, province) VALUES ('辽0102', '沈阳市和平区人民法院', '辽宁') "
                       "ON CONFLICT DO NOTHING")
    code, out, err = await run(db_url, tmp_path, "set", "辽0102", "--renewal-notice-days", "30")
    assert code == 0, err
    assert "30" in out and "续" in out, out
    assert await pool.fetchval("SELECT measure_renewal_notice_days FROM court WHERE code = '辽0102'") == 30
    # The approval amount is untouched by a notice-days change.
    assert await pool.fetchval("SELECT measure_deduction_approval_yuan FROM court WHERE code = '辽0102'") is None
    audit = await pool.fetchrow("SELECT actor_login, actor_role, target, details FROM audit_log "
                                "WHERE action = 'court_setting'")
    assert audit is not None and audit["actor_login"] == "it-admin" and audit["actor_role"] == "operator"
    details = audit["details"] if isinstance(audit["details"], dict) else json.loads(audit["details"])
    assert audit["target"] == "court:辽0102" and details == {
        "setting": "measure_renewal_notice_days", "from": None, "to": 30}, details
    code, out, err = await run(db_url, tmp_path, "list")
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.startswith("辽0102"))
    assert "30" in line and "100000" in line, out
    assert "续" in out.splitlines()[0], out  # the column is named

    code, out, err = await run(db_url, tmp_path, "set", "辽0102", "--renewal-notice-days", "default")
    assert code == 0, err
    assert await pool.fetchval("SELECT measure_renewal_notice_days FROM court WHERE code = '辽0102'") is None
    details = json.loads(await pool.fetchval("SELECT details::text FROM audit_log WHERE action = 'court_setting' "
                                             "ORDER BY id DESC LIMIT 1"))
    assert details == {"setting": "measure_renewal_notice_days", "from": 30, "to": None}, details
    code, out, err = await run(db_url, tmp_path, "list")
    line = next(line for line in out.splitlines() if line.startswith("辽0102"))
    assert "15 (默认 default)" in line, out


async def test_bad_renewal_notice_days_change_nothing(pool: asyncpg.Pool, db_url: str, tmp_path: Path) -> None:
    await pool.execute("INSERT INTO court (code, name, province) VALUES ('辽0102', '沈阳市和平区人民法院', '辽宁') "
                       "ON CONFLICT DO NOTHING")
    await pool.execute("UPDATE court SET measure_renewal_notice_days = 20 WHERE code = '辽0102'")
    for value in ("0", "1000", "abc", "-3", "1.5", "91", ""):
        code, out, err = await run(db_url, tmp_path, "set", "辽0102", "--renewal-notice-days", value)
        assert code == 2, (value, out, err)
        assert "1" in err and "90" in err and "天" in err and "days" in err, (value, err)  # bilingual, says the range
    code, out, err = await run(db_url, tmp_path, "set", "辽9999", "--renewal-notice-days", "30")
    assert code == 2 and "no such court" in err, err
    code, out, err = await run(db_url, tmp_path, "set", "辽0102")  # nothing to set
    assert code == 2 and "--renewal-notice-days" in err, err
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'court_setting'") == 0
    assert await pool.fetchval("SELECT measure_renewal_notice_days FROM court WHERE code = '辽0102'") == 20


def test_notice_days() -> None:
    assert parse_notice_days("default") is None and parse_notice_days(" 30 ") == 30
    assert parse_notice_days("1") == 1 and parse_notice_days("90") == 90
    for bad in ("0", "91", "1000", "abc", "-1", "1.5", "", "１５"):
        try:
            parse_notice_days(bad)
        except ValueError as exc:
            assert "天" in str(exc) and "days" in str(exc), exc
            continue
        raise AssertionError(bad)
