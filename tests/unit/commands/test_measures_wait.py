"""``enforcement measures ... --wait``: the command reads the measure until its agency answered,
and an agency's refusal ends with exit code 1 (done, something is wrong). A small real HTTP server
stands in for the API (it answers the measure pending twice, then refused)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from enforcement.cli import main

MEASURE: dict[str, Any] = {
    "id": 41, "url": "/api/v1/measures/41", "case_id": 3, "parent_id": None, "kind": "freeze",
    "asset_kind": "bank_account", "agency": "banks", "natural_key": "工商银行:6222:CNY", "amount": "100.00",
    "ruling": {"number": "（2026）辽0102执1号", "ruled_on": "2026-12-01"}, "notice_number": "（2026）辽0102执协00007号",
    "judge": "zhangwei", "requested_by": "zhangwei", "status": "pending", "task_status": "queued",
    "reference": None, "effect_amount": None, "queue_position": None, "transfer_reference": None, "refusal": None,
    "starts_on": None, "expires_on": None, "expiry_state": None,
}


@pytest.fixture
def api_url() -> Iterator[tuple[str, list[tuple[str, str, Any]]]]:
    """The fake API's URL, and the requests it got (method, path, body)."""
    seen: list[tuple[str, str, Any]] = []
    reads = {"n": 0}

    async def submit(request: web.Request) -> web.Response:
        seen.append((request.method, request.path, await request.json()))
        return web.json_response(MEASURE, status=202)

    async def get(request: web.Request) -> web.Response:
        seen.append((request.method, request.path, None))
        reads["n"] += 1
        if reads["n"] < 3:
            return web.json_response(MEASURE)
        return web.json_response({**MEASURE, "status": "refused", "task_status": "answered",
                                  "refusal": {"code": "ACCOUNT_NOT_FOUND", "reason": "该主体名下无此账户或账户已销户"}})

    app = web.Application()
    app.router.add_post("/api/v1/cases/3/measures", submit)
    app.router.add_get("/api/v1/measures/41", get)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", seen
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


def test_wait_reads_until_the_agency_answered_and_a_refusal_exits_1(
        api_url: tuple[str, list[tuple[str, str, Any]]], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("enforcement.commands.measures.WAIT_POLL_SECONDS", 0.01)
    url, seen = api_url
    code = main(["measures", "freeze", "--case", "3", "--key", "工商银行:6222:CNY", "--ruling", "（2026）辽0102执1号",
                 "--ruled-on", "2026-12-01", "--amount", "100", "--wait", "10", "--url", url, "--token", "t"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "被拒绝 refused" in out and "ACCOUNT_NOT_FOUND" in out and MEASURE["notice_number"] in out, out
    assert seen[0] == ("POST", "/api/v1/cases/3/measures", {
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": "工商银行:6222:CNY", "amount": "100.00",
        "ruling": {"number": "（2026）辽0102执1号", "ruled_on": "2026-12-01"}})
    assert [m for m, _p, _b in seen] == ["POST", "GET", "GET", "GET"]


def test_without_wait_the_queued_measure_is_printed_and_exit_is_0(
        api_url: tuple[str, list[tuple[str, str, Any]]], capsys: pytest.CaptureFixture[str]) -> None:
    url, seen = api_url
    code = main(["measures", "freeze", "--case", "3", "--key", "工商银行:6222:CNY", "--ruling", "（2026）辽0102执1号",
                 "--ruled-on", "2026-12-01", "--whole", "--json", "--url", url, "--token", "t"])
    out = capsys.readouterr().out
    assert code == 0 and json.loads(out) == MEASURE
    assert [(m, b.get("amount", "whole")) for m, _p, b in seen] == [("POST", "whole")]
