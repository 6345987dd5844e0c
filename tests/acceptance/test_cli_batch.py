"""``enforcement batch submit FILE.csv`` against the running service: the batch is accepted, a
progress line follows it to the end, and per-subject results are written; a bad row is
reported with its line number, its ID number masked."""

from __future__ import annotations

import asyncio
import csv
import os
import sys
from pathlib import Path
from typing import Any

from enforcement.api.keys import POOL
from tests.agency_helpers import case_with_debtors, make_debtors, overrides_for


async def _cli(api: Any, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "ENFORCEMENT_DATA_DIR": str(tmp_path), "ENFORCEMENT_URL": api.url("/").rstrip("/")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "enforcement.cli", "batch", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_batch_submits_a_csv_follows_it_and_writes_results(
    make_api: Any, tmp_path: Path, registry: Any
) -> None:
    api = await make_api(agency_overrides=overrides_for(registry))
    debtors = make_debtors(30, start=100_000)
    case_id = await case_with_debtors(api.app[POOL], debtors)
    source = tmp_path / "debtors.csv"
    with source.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["案件ID", "证件号码", "姓名"])
        for d in debtors:
            w.writerow([case_id, d.id_number, d.name])
    results = tmp_path / "results.csv"
    code, out, err = await _cli(api, tmp_path, "submit", str(source), "--interval", "0.2",
                                "--results", str(results))
    assert code == 0, err
    batch_id = out.strip()
    assert f"batch {batch_id}: 30 subjects accepted" in err
    assert f"100.0% {30 * len(registry)}/{30 * len(registry)} agency answers · 30/30 searches done" in err
    with results.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["line"]) for r in rows] == list(range(2, 32))
    assert {r["status"] for r in rows} == {"completed"}
    assert all(r["agencies"].count("=succeeded") == len(registry) for r in rows)
    code, out, _ = await _cli(api, tmp_path, "status", batch_id)
    assert code == 0 and "30/30 searches done" in out


async def test_cli_batch_reports_the_bad_lines_and_searches_the_good_ones(make_api: Any, tmp_path: Path) -> None:
    api = await make_api(role="api")
    debtors = make_debtors(3, start=110_000)
    case_id = await case_with_debtors(api.app[POOL], debtors)
    stranger = make_debtors(1, start=120_000)[0]
    source = tmp_path / "debtors.csv"
    source.write_text("case_id,id_number,name\n" + "".join(
        f"{case_id},{d.id_number},{d.name}\n" for d in [debtors[0], stranger, debtors[2]])
        + f"x{case_id},{debtors[1].id_number},{debtors[1].name}\n", encoding="utf-8")
    # --all-or-nothing: nothing is submitted, each bad line is named.
    code, out, err = await _cli(api, tmp_path, "submit", str(source), "--all-or-nothing", "--no-wait")
    assert code == 2 and out == "" and "line 5: case_id must be a number" in err
    source.write_text("\n".join(source.read_text(encoding="utf-8").splitlines()[:4]) + "\n", encoding="utf-8")
    code, out, err = await _cli(api, tmp_path, "submit", str(source), "--all-or-nothing", "--no-wait")
    assert code == 2, err  # the API refuses the whole batch: bad input
    assert "batch_invalid" in err and "line 3" in err and out == ""
    # By default: the bad lines reported, the good ones searched; exit 1 says some were left out.
    source.write_text(source.read_text(encoding="utf-8")
                      + f"x{case_id},{debtors[1].id_number},{debtors[1].name}\n", encoding="utf-8")
    code, out, err = await _cli(api, tmp_path, "submit", str(source), "--no-wait")
    assert code == 1, err
    assert "skipped 已跳过 line 5: case_id must be a number" in err
    assert "batch_invalid" in err and "line 3" in err and "subject_not_debtor" in err
    assert "submitting the other 2 row(s)" in err
    assert f"batch {out.strip()}: 2 subjects accepted" in err
    assert stranger.id_number not in err  # masked
    code, _out, err = await _cli(api, tmp_path, "submit", str(tmp_path / "missing.csv"))
    assert code == 2 and "cannot read" in err and "Traceback" not in err


async def test_cli_batch_reads_a_gbk_csv_from_excel(make_api: Any, tmp_path: Path) -> None:
    api = await make_api(role="api")
    debtors = make_debtors(2, start=130_000)
    case_id = await case_with_debtors(api.app[POOL], debtors)
    source = tmp_path / "debtors-gbk.csv"
    source.write_bytes(("案件ID,证件号码,姓名\r\n" + "".join(
        f"{case_id},{d.id_number},{d.name}\r\n" for d in debtors)).encode("gbk"))
    code, out, err = await _cli(api, tmp_path, "submit", str(source), "--no-wait")
    assert code == 0, err
    assert f"batch {out.strip()}: 2 subjects accepted" in err
    code, _out, err = await _cli(api, tmp_path, "submit", str(source), "--no-wait", "--url", "http://127.0.0.1:9")
    assert code == 3 and "cannot reach the service" in err and "Traceback" not in err
