"""Each court's own renewal notice days (issue 17: "renewals due raise alerts N days before (court
setting, default 15 days)"). Court 辽0102 gives 30 days' notice, court 辽0103 keeps the
deployment's 15: a freeze of each expiring in 20 days is due in the first and not in the second,
everywhere "due" is decided (the expiry watch's alert, a measure's expiry_state, the case's
measures and their notice days, GET /api/v1/measures?state=due, the 终本 checklist's measures),
and setting the court back to the default (NULL) makes it not due again."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from enforcement.api.keys import POOL
from enforcement.cases.lifecycle import court_today
from enforcement.kernel import metrics
from enforcement.measures.keys import MEASURE_CLOCK, MEASURE_EXPIRY
from enforcement.seeds import CASES
from tests.acceptance.test_measures import JUDGE, found_account, wait_measure
from tests.acceptance.test_measures_rules import freeze_of
from tests.acceptance.test_search_flow import case_id, search_body

SUPERVISOR, OTHER_SUPERVISOR = "chenjing", "liuyang"  # of 辽0102 and of 辽0103


async def other_court_freeze(api: Any) -> tuple[int, str, dict[str, Any]]:
    """A case of court 辽0103, its judge, and an active freeze of an account its search found."""
    other_number, other_court, other_judge, *_r, other_debtors = CASES[5]
    assert other_court == "辽0103"
    cid = await case_id(api, other_number)
    accounts: list[dict[str, Any]] = []
    for debtor in other_debtors:
        status, body = await api.request("POST", "/api/v1/searches", login=other_judge, json=search_body(cid, debtor))
        assert status == 202, body
        view = await api.wait_search(body["id"], other_judge)
        accounts += [e for e in view["dossier"]["sections"].get("bank_account", [])
                     if Decimal(str(e["data"]["available_balance"])) > 10 and e["data"]["status"] != "销户"]
    assert accounts
    today = api.app[MEASURE_CLOCK].today()
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=other_judge, json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": accounts[0]["natural_key"],
        "ruling": {"number": f"（{today.year}）{other_court}执1号", "ruled_on": today.isoformat()}})
    assert status == 202, body
    freeze = await wait_measure(api, body["id"], login=other_judge)
    assert freeze["status"] == "active", freeze
    return cid, other_judge, freeze


async def test_a_court_with_30_days_sees_20_days_out_as_due_and_the_default_court_does_not(make_api: Any) -> None:
    api = await make_api()  # the deployment's MEASURE_RENEWAL_NOTICE_DAYS: 15
    pool, clock, watch = api.app[POOL], api.app[MEASURE_CLOCK], api.app[MEASURE_EXPIRY]
    await pool.execute("UPDATE court SET measure_renewal_notice_days = 30 WHERE code = '辽0102'")
    cid, account = await found_account(api)
    freeze = await freeze_of(api, cid, account)
    assert freeze["status"] == "active", freeze
    other_cid, other_judge, other = await other_court_freeze(api)
    assert other["expires_on"] == freeze["expires_on"]

    clock.advance((date.fromisoformat(freeze["expires_on"]) - clock.today()).days - 20)  # both expire in 20 days

    # The expiry watch: one alert, on the 30-day court's case only; the gauge counts that one due.
    assert await watch.tick() == (1, 0)
    assert await watch.tick() == (0, 0)
    assert metrics.MEASURES_EXPIRY.labels(state="due")._value.get() == 1
    status, alerts = await api.request("GET", f"/api/v1/alerts?kind=measure_renewal_due&case_id={cid}", login=JUDGE)
    assert status == 200 and [a["evidence"]["measure_id"] for a in alerts["alerts"]] == [freeze["id"]], alerts
    status, alerts = await api.request("GET", f"/api/v1/alerts?kind=measure_renewal_due&case_id={other_cid}",
                                       login=other_judge)
    assert status == 200 and alerts["alerts"] == [], alerts

    # A measure's expiry state, and the case's measures with the notice days the page counts by.
    status, body = await api.request("GET", f"/api/v1/cases/{cid}/measures", login=JUDGE)
    assert status == 200 and body["notice_days"] == 30, body
    assert [m["expiry_state"] for m in body["measures"]] == ["due"]
    status, body = await api.request("GET", f"/api/v1/cases/{other_cid}/measures", login=other_judge)
    assert status == 200 and body["notice_days"] == 15, body
    assert [m["expiry_state"] for m in body["measures"]] == ["running"]
    status, got = await api.request("GET", f"/api/v1/measures/{freeze['id']}", login=JUDGE)
    assert status == 200 and got["expiry_state"] == "due", got

    # The court-wide view: due at 辽0102 (with its 30 days), nothing due at 辽0103 (15 days).
    status, body = await api.request("GET", "/api/v1/measures?state=due", login=SUPERVISOR, role="supervisor")
    assert status == 200 and body["notice_days"] == 30, body
    assert [(m["id"], m["state"], m["expiry_state"]) for m in body["measures"]] == [(freeze["id"], "due", "due")]
    status, body = await api.request("GET", "/api/v1/measures?state=due", login=OTHER_SUPERVISOR, role="supervisor")
    assert status == 200 and body["notice_days"] == 15 and body["measures"] == [], body
    status, body = await api.request("GET", "/api/v1/measures?state=live", login=OTHER_SUPERVISOR, role="supervisor")
    assert [(m["id"], m["state"]) for m in body["measures"]] == [(other["id"], "live")], body

    # The 终本 checklist's measures (counted by the lifecycle's own date, the real one: the controls
    # are moved to expire 20 days from it for this look): renew now at 30 days' notice, keep at 15.
    ids = [freeze["id"], other["id"]]
    await pool.execute("UPDATE measure SET expires_on = $1 WHERE id = ANY($2)", court_today() + timedelta(days=20),
                       ids)
    status, check = await api.request("GET", f"/api/v1/cases/{cid}/closure-check", login=JUDGE)
    assert status == 200 and check["measures"]["renewal_notice_days"] == 30, check["measures"]
    assert [(i["expiry_state"], i["action"]) for i in check["measures"]["items"]] == [("due", "renew")]
    status, check = await api.request("GET", f"/api/v1/cases/{other_cid}/closure-check", login=other_judge)
    assert status == 200 and check["measures"]["renewal_notice_days"] == 15, check["measures"]
    assert [(i["expiry_state"], i["action"]) for i in check["measures"]["items"]] == [("running", "keep")]
    await pool.execute("UPDATE measure SET expires_on = $1 WHERE id = ANY($2)",
                       date.fromisoformat(freeze["expires_on"]), ids)

    # Back to the deployment's default: 20 days out is not due at 辽0102 either.
    await pool.execute("UPDATE court SET measure_renewal_notice_days = NULL WHERE code = '辽0102'")
    status, body = await api.request("GET", "/api/v1/measures?state=due", login=SUPERVISOR, role="supervisor")
    assert status == 200 and body["notice_days"] == 15 and body["measures"] == [], body
    status, got = await api.request("GET", f"/api/v1/measures/{freeze['id']}", login=JUDGE)
    assert got["expiry_state"] == "running", got

    # And 10 days out both courts see their renewal due: the 15-day court's alert comes now.
    clock.advance(10)
    assert await watch.tick() == (1, 0)
    assert metrics.MEASURES_EXPIRY.labels(state="due")._value.get() == 2
    status, alerts = await api.request("GET", f"/api/v1/alerts?kind=measure_renewal_due&case_id={other_cid}",
                                       login=other_judge)
    assert [a["evidence"]["measure_id"] for a in alerts["alerts"]] == [other["id"]], alerts


async def test_the_court_range_is_enforced_by_the_database(make_api: Any) -> None:
    """Outside 1..90 days the database refuses the value, whoever writes it."""
    import asyncpg
    import pytest

    api = await make_api()
    pool = api.app[POOL]
    for bad in (0, 91, -1):
        with pytest.raises(asyncpg.CheckViolationError):
            await pool.execute("UPDATE court SET measure_renewal_notice_days = $1 WHERE code = '辽0102'", bad)
    assert await pool.fetchval("SELECT measure_renewal_notice_days FROM court WHERE code = '辽0102'") is None
