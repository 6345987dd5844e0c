"""``enforcement measures`` end to end: the command run as a process against the whole service
over real HTTP and the bank simulator (one service and one search for the module's acts): a
freeze reaches the bank, a re-run is one freeze, the API's refusals come back bilingual with its
exit code and nothing at the bank, renew / deduct / release act on the control; bad dates and
amounts are refused by the command before any request."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from decimal import Decimal
from typing import Any

import pytest

from enforcement.api.keys import POOL
from enforcement.cli import main
from enforcement.measures.keys import MEASURE_CLOCK
from tests.acceptance.test_measures import JUDGE, OTHER_JUDGE, bank_view, ruling
from tests.acceptance.test_search_flow import case_id, search_body


async def test_cli_freezes_renews_deducts_and_releases_through_the_api(make_api: Any, simulators: Any,
                                                                         tmp_path: Any) -> None:
    api = await make_api()
    pool = api.app[POOL]
    today = api.app[MEASURE_CLOCK].today()
    cid = await case_id(api)
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, json=search_body(cid))
    assert status == 202, body
    sections = (await api.wait_search(body["id"], JUDGE))["dossier"]["sections"]
    account = next(e for e in sections["bank_account"]
                   if Decimal(str(e["data"]["available_balance"])) > 10 and e["data"]["status"] != "销户")
    vehicle = sections["vehicle"][0]
    number, key = account["data"]["account_number"], account["natural_key"]
    balance = Decimal(str(account["data"]["available_balance"]))
    env = {**os.environ, "ENFORCEMENT_DATA_DIR": str(tmp_path), "ENFORCEMENT_URL": api.url("/").rstrip("/")}

    async def cli(*args: str, user: str = JUDGE) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "enforcement.cli", "measures", *args, "--user", user, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    async def refusals() -> list[tuple[str, int]]:
        rows = await pool.fetch("SELECT reason, case_id FROM audit_log WHERE action = 'refusal' ORDER BY id")
        return [(r["reason"], r["case_id"]) for r in rows]

    def freeze(n: int, *more: str) -> tuple[str, ...]:
        r = ruling(today, n)
        return ("freeze", "--case", str(cid), "--key", key, "--ruling", r["number"], "--ruled-on", r["ruled_on"],
                *more)

    # More than the available balance: the API's 422 in both languages, exit 2, audited, nothing at the bank.
    code, out, err = await cli(*freeze(1, "--amount", f"{balance + 1:.2f}"))
    assert code == 2 and out == "", (out, err)
    assert "amount_exceeds_balance" in err and "超过账户可用余额" in err and "available balance" in err, err
    assert "错误：" in err and "error:" in err and "request " in err, err
    assert await refusals() == [("amount_exceeds_balance", cid)]
    # Not the case's judge: the API's 403, exit 4, audited by the edge.
    code, out, err = await cli(*freeze(1, "--whole"), user=OTHER_JUDGE)
    assert code == 4 and "not_case_judge" in err and "错误：" in err and "error:" in err, (out, err)
    assert [c for _r, c in await refusals()] == [cid, cid]
    status, held = await bank_view(simulators, number)
    assert status == 404 and held["ErrorCode"] == "ACCOUNT_NOT_HELD", held  # the bank holds nothing for it

    # The freeze, waited for: printed as `show` prints it, and held by the bank.
    half = (balance / 2).quantize(Decimal("0.01"))
    code, out, err = await cli(*freeze(1, "--amount", f"{half}", "--wait", "30"))
    assert code == 0, err
    assert "冻结 freeze" in out and "生效 active" in out and "执协" in out and f"{half:.2f}" in out, out
    status, listed = await api.request("GET", f"/api/v1/cases/{cid}/measures", login=JUDGE)
    [frozen] = listed["measures"]
    assert frozen["notice_number"] in out and frozen["status"] == "active" and frozen["amount"] == f"{half:.2f}"
    status, held = await bank_view(simulators, number)
    assert Decimal(held["Frozen"]) == half and len(held["Freezes"]) == 1, held

    # A re-run after a lost answer: the API's 409 names the measure made; still one freeze at the bank.
    code, out, err = await cli(*freeze(1, "--amount", f"{half}"))
    assert code == 2 and "duplicate_measure" in err and f"措施{frozen['id']}" in err and \
        f"measure {frozen['id']}" in err, err
    assert (await refusals())[-1] == ("duplicate_measure", cid)
    status, held = await bank_view(simulators, number)
    assert Decimal(held["Frozen"]) == half and len(held["Freezes"]) == 1, held

    # Reading: list and show, as text and as the API's JSON.
    code, out, err = await cli("list", "--case", str(cid))
    assert code == 0 and "冻结 freeze" in out and frozen["notice_number"] in out and frozen["expires_on"] in out, out
    code, out, err = await cli("show", str(frozen["id"]), "--json")
    assert code == 0 and json.loads(out) == {**frozen, "expiry_state": "running"}, (out, err)
    code, out, err = await cli("list", "--case", str(cid), "--json")
    assert code == 0 and [m["id"] for m in json.loads(out)["measures"]] == [frozen["id"]], (out, err)
    code, out, err = await cli("show", "999999")
    assert code == 2 and "measure_not_found" in err, err

    # Renew, deduct and release through the command; --json prints the API's answer.
    r2, r3, r4 = ruling(today, 2), ruling(today, 3), ruling(today, 4)
    code, out, err = await cli("renew", str(frozen["id"]), "--ruling", r2["number"], "--ruled-on", r2["ruled_on"],
                               "--wait", "30", "--json")
    assert code == 0, err
    renewal = json.loads(out)
    assert renewal["kind"] == "renew" and renewal["parent_id"] == frozen["id"] and renewal["status"] == "done", renewal
    code, out, err = await cli("deduct", str(frozen["id"]), "--amount", "10", "--ruling", r3["number"],
                               "--ruled-on", r3["ruled_on"], "--wait", "30")
    assert code == 0 and "扣划 deduct" in out and "已完成 done" in out and "10.00" in out, (out, err)
    status, held = await bank_view(simulators, number)
    assert Decimal(held["Frozen"]) == half - 10, held
    code, out, err = await cli("release", str(frozen["id"]), "--ruling", r4["number"], "--ruled-on", r4["ruled_on"],
                               "--wait", "30")
    assert code == 0 and "解除 release" in out and "已完成 done" in out, (out, err)
    status, held = await bank_view(simulators, number)
    assert Decimal(held["Frozen"]) == 0, held

    # A seal: no amount; the vehicle registry's answer, waited for.
    r5 = ruling(today, 5)
    code, out, err = await cli("seal", "--case", str(cid), "--asset-kind", "vehicle", "--key", vehicle["natural_key"],
                               "--ruling", r5["number"], "--ruled-on", r5["ruled_on"], "--wait", "30", "--json")
    assert code == 0, err
    sealed = json.loads(out)
    assert (sealed["kind"], sealed["agency"], sealed["status"], sealed["amount"]) == ("seal", "vehicles", "active",
                                                                                      None), sealed
    assert sealed["reference"] and sealed["natural_key"] == vehicle["natural_key"], sealed
    status, listed = await api.request("GET", f"/api/v1/cases/{cid}/measures", login=JUDGE)
    assert [(m["kind"], m["status"]) for m in listed["measures"]] == [
        ("freeze", "released"), ("renew", "done"), ("deduct", "done"), ("release", "done"), ("seal", "active")]


RULING = ("--ruling", "（2026）辽0102执1号")


@pytest.mark.parametrize(("argv", "said"), [
    (["freeze", "--case", "1", "--key", "k", *RULING, "--ruled-on", "2026-02-30", "--whole"], "is not a date"),
    (["freeze", "--case", "1", "--key", "k", *RULING, "--ruled-on", "1.12.2026", "--whole"], "is not a date"),
    (["freeze", "--case", "1", "--key", "k", *RULING, "--ruled-on", "2026-12-01", "--amount", "1.234"],
     "at most two decimals"),
    (["freeze", "--case", "1", "--key", "k", *RULING, "--ruled-on", "2026-12-01", "--amount", "0"],
     "more than zero"),
    (["freeze", "--case", "1", "--key", "k", *RULING, "--ruled-on", "2026-12-01", "--amount", "十万"],
     "number of yuan"),
    (["freeze", "--case", "1", "--key", "k", *RULING, "--ruled-on", "2026-12-01"], "--amount --whole"),
    (["freeze", "--case", "1", "--key", "k", *RULING, "--ruled-on", "2026-12-01", "--amount", "5", "--whole"],
     "not allowed with"),
    (["freeze", "--case", "1", "--asset-kind", "securities_holding", "--key", "k", *RULING,
      "--ruled-on", "2026-12-01", "--amount", "5"], "use --whole"),
    (["seal", "--case", "1", "--asset-kind", "vehicle", "--key", "k", *RULING, "--ruled-on", "2026-12-01",
      "--until", "2028-02-30"], "is not a date"),
    (["renew", "7", *RULING, "--ruled-on", "2026-12-01", "--until", "soon"], "is not a date"),
    (["deduct", "7", *RULING, "--ruled-on", "2026-12-01", "--amount", "-3"], "more than zero"),
    (["deduct", "7", *RULING, "--ruled-on", "2026-12-01"], "--amount"),
    (["release", "0", *RULING, "--ruled-on", "2026-12-01"], "is not an id"),
])
def test_bad_dates_and_amounts_are_refused_before_any_request(argv: list[str], said: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 2 and the reason, with no service at --url: a request would have ended with exit 3."""
    nowhere = ["--url", "http://127.0.0.1:9", "--token", "t"]
    try:
        code = main(["measures", *argv, *nowhere])
    except SystemExit as exc:  # argparse's usage error
        code = int(str(exc.code))
    err = capsys.readouterr().err
    assert code == 2 and said in err, err
    assert "无法连接" not in err and "cannot reach" not in err
