"""``enforcement search`` against the running service prints each agency as it answers."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from enforcement.api.keys import POOL
from enforcement.seeds import CASES


async def test_cli_search_prints_every_agency_then_the_dossier(make_api: Any, tmp_path: Path, registry: Any) -> None:
    api = await make_api()
    number, _court, judge, *_ = CASES[0]
    debtor = CASES[0][-1][0]
    case_id = await api.app[POOL].fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", number)
    env = {**os.environ, "ENFORCEMENT_DATA_DIR": str(tmp_path), "ENFORCEMENT_URL": api.url("/").rstrip("/")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "enforcement.cli", "search", "--case", str(case_id), "--id-number",
        debtor.id_number, "--name", debtor.name, "--user", judge,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    for agency in registry:
        assert any(line.strip().startswith(agency) and "已反馈" in line for line in text.splitlines()), text
    assert "dossier:" in text
    assert debtor.id_number not in text  # masked in the CLI output too
    # Each agency's answer and the records, in Beijing time, with Chinese headings and no raw keys.
    assert "各单位答复" in text and "答复时间（北京时间）" in text
    assert "+00:00" not in text and "T0" not in text
    for raw in ("plate_number", "account_number", "mortgaged", "true", "false", "bank_account"):
        assert raw not in text, raw


async def test_cli_search_json_is_pure_json_and_errors_have_exit_codes(
    make_api: Any, tmp_path: Path, registry: Any
) -> None:
    api = await make_api()
    number, _court, judge, *_ = CASES[0]
    debtor = CASES[0][-1][0]
    case_id = await api.app[POOL].fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", number)
    env = {**os.environ, "ENFORCEMENT_DATA_DIR": str(tmp_path), "ENFORCEMENT_URL": api.url("/").rstrip("/")}
    args = ["search", "--case", str(case_id), "--id-number", debtor.id_number, "--name", debtor.name, "--user", judge]
    # --json piped into python -m json.tool, as a script would.
    shell = (f"{sys.executable} -m enforcement.cli {' '.join(args)} --json | {sys.executable} -m json.tool "
             f"> {tmp_path / 'out.json'}")
    proc = await asyncio.create_subprocess_shell(shell, env=env, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    view = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert view["status"] == "completed" and len(view["agencies"]) == len(registry)
    assert "已受理" in err.decode()  # the progress went to stderr

    async def run(*extra: str) -> tuple[int, str]:
        p = await asyncio.create_subprocess_exec(sys.executable, "-m", "enforcement.cli", *args, *extra, env=env,
                                                 stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, e = await asyncio.wait_for(p.communicate(), timeout=60)
        assert p.returncode is not None
        return p.returncode, e.decode()

    code, err_text = await run("--url", "http://127.0.0.1:9")
    assert code == 3 and "无法连接服务" in err_text and "cannot reach the service" in err_text
    assert "Traceback" not in err_text
    code, err_text = await run("--user", "wangfang")  # another court's judge: refused
    assert code == 4 and "Traceback" not in err_text
