"""One agency down for a stretch: its breaker opens within its configured calls, no call reaches
it while open, tasks wait (none fails), the log says once that it went down and once that it is
back, and its tasks complete after it returns. ``GET /api/v1/agencies`` shows it all."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from structlog.testing import capture_logs

from enforcement.api.keys import POOL
from enforcement.seeds import CASES
from tests.agency_helpers import errors_in, fast_policy, sim_config, sim_stats, wait_until

CASE_NUMBER, _, JUDGE, *_rest = CASES[0]
DEBTOR = CASES[0][-1][0]
MIN_CALLS, MAX_IN_FLIGHT, OPEN_SECONDS = 5, 2, 3.0


async def _agency(api: Any, name: str) -> dict[str, Any]:
    status, body = await api.request("GET", "/api/v1/agencies", login=JUDGE)
    assert status == 200, body
    return next(dict(a) for a in body["agencies"] if a["name"] == name)


async def test_an_agency_down_for_a_stretch_is_left_alone_then_catches_up(
    make_api: Any, simulators: Any, registry: Any
) -> None:
    vehicles = simulators["vehicles"].url
    overrides = {name: fast_policy() for name in registry}
    overrides["vehicles"] = fast_policy(
        breaker_min_calls=str(MIN_CALLS), breaker_failure_ratio="0.5", breaker_open_seconds=str(OPEN_SECONDS),
        breaker_half_open_probes="1", max_in_flight=str(MAX_IN_FLIGHT), max_attempts="1", deadline_seconds="60",
    )
    with capture_logs() as logs:
        api = await make_api(agency_overrides=overrides, heartbeat_seconds=0.2)
        pool = api.app[POOL]
        await sim_config(vehicles, down=True)
        cid = await pool.fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", CASE_NUMBER)
        ids = []
        for _ in range(10):
            status, body = await api.request(
                "POST", "/api/v1/searches", login=JUDGE,
                json={"case_id": cid, "force_fresh": True,
                      "subject": {"kind": DEBTOR.kind, "id_number": DEBTOR.id_number, "name": DEBTOR.name}})
            assert status == 202, body
            ids.append(body["id"])

        async def opened() -> dict[str, Any] | None:
            view = await _agency(api, "vehicles")
            return view if view["breaker"]["state"] == "open" else None

        view = await wait_until(opened, timeout=15, what="the vehicles breaker to open")
        assert view["health"] == "down"
        assert view["breaker"]["reason"] == "http_503"
        refused = (await sim_stats(vehicles))["faults"]["down"]
        assert MIN_CALLS <= refused <= MIN_CALLS + MAX_IN_FLIGHT - 1, refused

        # While open: not one call reaches the agency, and its tasks wait rather than fail.
        open_until = datetime.fromisoformat(view["breaker"]["open_until"]).timestamp()
        await asyncio.sleep(0.2)
        calls_at_open = (await sim_stats(vehicles))["calls"]
        await asyncio.sleep(max(0.0, open_until - time.time() - 0.3))
        assert (await sim_stats(vehicles))["calls"] == calls_at_open
        states = {r["status"] for r in await pool.fetch("SELECT status FROM agency_task WHERE agency = 'vehicles'")}
        assert states <= {"queued", "running"}, states
        assert view["queue"]["queued"] + view["queue"]["running"] == 10

        # The half-open probe finds it still down: open again (the log does not say it twice).
        await wait_until(lambda: _probed(vehicles, calls_at_open), timeout=10, what="a half-open probe")
        await sim_config(vehicles, down=False)
        for search_id in ids:
            done = await api.wait_search(search_id, JUDGE, timeout=30)
            assert {a["agency"]: a["status"] for a in done["agencies"]}["vehicles"] == "succeeded"
        back = await _agency(api, "vehicles")
        assert back["breaker"]["state"] == "closed" and back["health"] in ("up", "degraded")
        assert back["recent"]["calls"] > 0 and back["recent"]["p50_ms"] is not None
    down = [e for e in logs if e["event"] == "agency_down"]
    recovered = [e for e in logs if e["event"] == "agency_recovered"]
    assert [e["agency"] for e in down] == ["vehicles"], down
    assert [e["agency"] for e in recovered] == ["vehicles"], recovered
    assert errors_in(logs, expected=()) == []


async def _probed(url: str, calls_at_open: int) -> bool:
    return bool((await sim_stats(url))["calls"] > calls_at_open)


async def test_the_agencies_view_describes_every_agency(make_api: Any, registry: Any) -> None:
    api = await make_api(heartbeat_seconds=0.2, agency_overrides={})  # the manifests as written, no test speed-ups

    async def reported() -> dict[str, Any] | None:
        status, body = await api.request("GET", "/api/v1/agencies", login="chenjing", role="supervisor")
        assert status == 200
        return dict(body) if body["workers"] >= 1 else None

    body = await wait_until(reported, timeout=10, what="a live dispatcher")
    assert sorted(a["name"] for a in body["agencies"]) == sorted(registry)
    banks = next(a for a in body["agencies"] if a["name"] == "banks")
    assert banks["answer_mode"] == "deferred" and banks["callbacks"] is True
    assert banks["batch"] == {"max_size": 200, "max_wait_seconds": 2.0}
    assert banks["policy"]["breaker"]["min_calls"] == 20
    for agency in body["agencies"]:
        assert agency["health"] == "up" and agency["breaker"]["state"] == "closed"
    status, refused = await api.request("GET", "/api/v1/agencies", login="bank-gateway", role="agency")
    assert status == 403, refused  # an agency account reads no other agency's health
