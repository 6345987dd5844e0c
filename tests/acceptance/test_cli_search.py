"""``enforcement search`` against the running service prints each agency as it answers."""

from __future__ import annotations

import asyncio
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
