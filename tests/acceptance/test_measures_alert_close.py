"""A control's alert resolves by itself once the control no longer asks for it (decision 1706):
a renewal-due alert when its renewal is done (the expiry moved past the one alerted) or the
control is released, or lapses (the lapse alert takes its place); a lapse alert when a new freeze
of the same asset is in force. Resolved by the system, audited once naming the measure that
answered it (or the lapse), in the answer's (the lapse alert's) transaction; a
refused renewal leaves the alert open; the expiry watch resolves one left open (answered before)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from enforcement.api.keys import POOL
from enforcement.measures.keys import MEASURE_CLOCK, MEASURE_EXPIRY
from enforcement.measures.store.measures import Answer, Measure
from tests.acceptance.test_measures import JUDGE, found_account, ruling, wait_measure


async def alert_of(api: Any, cid: int, kind: str, measure_id: int | None = None) -> dict[str, Any]:
    """The case's one alert of ``kind`` (of the control ``measure_id``, if given)."""
    status, alerts = await api.request("GET", f"/api/v1/alerts?kind={kind}&case_id={cid}", login=JUDGE)
    found = [a for a in alerts["alerts"] if measure_id in (None, a["evidence"]["measure_id"])]
    assert status == 200 and len(found) == 1, alerts
    return dict(found[0])


async def open_alerts(api: Any, cid: int) -> list[str]:
    status, alerts = await api.request("GET", f"/api/v1/alerts?status=open&case_id={cid}", login=JUDGE)
    assert status == 200, alerts
    return [a["kind"] for a in alerts["alerts"]]


async def resolutions(api: Any, alert_id: int) -> list[Any]:
    return list(await api.app[POOL].fetch(
        "SELECT actor_login, actor_role, case_id, details FROM audit_log WHERE action = 'alert_resolved' "
        "AND target = $1 ORDER BY id", f"alert:{alert_id}"))


async def refused_renewal(api: Any, control_id: int) -> None:
    """A renewal of the control that the agency refuses, kept by the store as the dispatcher keeps
    an answer (the bank simulator refuses no renewal of a live freeze)."""
    pool = api.app[POOL]
    row = await pool.fetchrow(
        "INSERT INTO measure (case_id, parent_id, kind, asset_kind, agency, target_key, target, subject_kind, "
        "  subject_id_number, subject_name, ruling_number, ruled_on, document_number, case_number, court_code, "
        "  judge_login, judge_name, judge_officer_id, requested_by, idempotency_key, request_no, task_status, "
        "  deadline_at, lease_owner, lease_expires_at) "
        "SELECT case_id, id, 'renew', asset_kind, agency, target_key, target, subject_kind, subject_id_number, "
        "  subject_name, ruling_number, ruled_on, document_number || '-refused', case_number, court_code, "
        "  judge_login, judge_name, judge_officer_id, requested_by, idempotency_key || '-refused', "
        "  request_no || 'R', 'running', now() + interval '1 hour', 'test', now() + interval '1 hour' "
        "FROM measure WHERE id = $1 RETURNING *, NULL AS parent_reference, false AS past_deadline", control_id)
    kept = await api.app[MEASURE_EXPIRY].store.answer(Measure.from_row(row), "test", Answer(
        "refused", None, None, None, None, "REFUSED", "拒绝续冻", datetime.now(UTC), None, None))
    assert kept is not None and kept.status == "refused"


async def test_a_done_renewal_resolves_its_alert_once_a_refused_one_does_not(make_api: Any) -> None:
    api = await make_api()
    clock, watch, pool = api.app[MEASURE_CLOCK], api.app[MEASURE_EXPIRY], api.app[POOL]
    cid, account = await found_account(api)
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": account["natural_key"],
        "ruling": ruling(clock.today())})
    assert status == 202, body
    freeze = await wait_measure(api, body["id"])
    clock.advance((date.fromisoformat(freeze["expires_on"]) - clock.today()).days - 10)
    assert (await watch.tick())[0] == 1
    alert = await alert_of(api, cid, "measure_renewal_due")
    assert alert["status"] == "open" and await open_alerts(api, cid) == ["measure_renewal_due"]

    # Refused by the bank: the control still expires as alerted; the alert stays open, also after a tick.
    await refused_renewal(api, freeze["id"])
    await watch.tick()
    assert (await alert_of(api, cid, "measure_renewal_due"))["status"] == "open"
    assert await resolutions(api, alert["id"]) == []

    # The judge acknowledges it: audited (who, from, to), in the change's transaction.
    status, seen = await api.request("POST", f"/api/v1/alerts/{alert['id']}/status", login=JUDGE,
                                     json={"status": "acknowledged"})
    assert status == 200 and seen["acknowledged_by"] == JUDGE and seen["resolved_by"] is None, seen
    status, body = await api.request("POST", f"/api/v1/measures/{freeze['id']}:renew", login=JUDGE,
                                     json={"ruling": ruling(clock.today(), 2)})
    assert status == 202, body
    renewal = await wait_measure(api, body["id"])
    assert renewal["status"] == "done", renewal
    # Resolved with the answer (no tick), by the system, audited once naming the renewal.
    resolved = await alert_of(api, cid, "measure_renewal_due")
    # The judge's acknowledgement is kept beside the system's resolution.
    assert (resolved["status"], resolved["acknowledged_by"], resolved["acknowledged_at"], resolved["resolved_by"]) == (
        "resolved", JUDGE, seen["acknowledged_at"], "system"), resolved
    assert resolved["resolved_at"] is not None and resolved["resolved_at"] >= seen["acknowledged_at"], resolved
    assert resolved["actions"] == {} and resolved["follow_up"]["status"] == "done"
    assert await open_alerts(api, cid) == []
    records = await resolutions(api, alert["id"])
    assert [(r["actor_login"], r["actor_role"], r["case_id"]) for r in records] == [("system", "system", cid)]
    assert records[0]["details"]["follow_up"] == {"id": body["id"], "kind": "renew",
                                                  "notice_number": body["notice_number"]}, records
    await watch.tick()
    assert len(await resolutions(api, alert["id"])) == 1
    # Two audit records: the judge's acknowledgement, the system's resolution.
    changes = await pool.fetch("SELECT action, actor_login, actor_role, case_id, details FROM audit_log "
                               "WHERE target = $1 ORDER BY id", f"alert:{alert['id']}")
    assert [(r["action"], r["actor_login"], r["case_id"]) for r in changes] == [
        ("alert_status_changed", JUDGE, cid), ("alert_resolved", "system", cid)], changes
    assert changes[0]["details"] == {"alert_kind": "measure_renewal_due", "from": "open", "to": "acknowledged"}

    # One left open (answered before this rule) is resolved by the expiry watch's next tick.
    await pool.execute("UPDATE case_alert SET status = 'open', resolved_by = NULL, resolved_at = NULL "
                       "WHERE id = $1", alert["id"])
    assert await open_alerts(api, cid) == ["measure_renewal_due"]
    await watch.tick()
    assert await open_alerts(api, cid) == []
    assert [r["details"]["follow_up"]["id"] for r in await resolutions(api, alert["id"])] == [body["id"]] * 2


async def test_a_lapse_a_new_freeze_and_a_release_resolve_the_alerts_they_answer(make_api: Any) -> None:
    api = await make_api()
    clock, watch = api.app[MEASURE_CLOCK], api.app[MEASURE_EXPIRY]
    cid, account = await found_account(api)
    control = {"kind": "freeze", "asset_kind": "bank_account", "natural_key": account["natural_key"]}
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE,
                                     json={**control, "ruling": ruling(clock.today())})
    assert status == 202, body
    first = await wait_measure(api, body["id"])
    clock.advance((date.fromisoformat(first["expires_on"]) - clock.today()).days - 10)
    assert (await watch.tick())[0] == 1
    renewal_due = await alert_of(api, cid, "measure_renewal_due")
    status, body = await api.request("POST", f"/api/v1/alerts/{renewal_due['id']}/status", login=JUDGE,
                                     json={"status": "acknowledged"})
    assert status == 200, body
    # Past its expiry without renewal: it lapses (a lapsed control cannot be renewed or released). The
    # lapse alert takes the renewal-due alert's place: that one is resolved by the system, audited once
    # naming the lapse (alert, control, expiry), in the lapse alert's transaction.
    clock.advance((date.fromisoformat(first["expires_on"]) - clock.today()).days + 1)
    await watch.tick()
    lapse = await alert_of(api, cid, "measure_lapsed")
    assert await open_alerts(api, cid) == ["measure_lapsed"]
    superseded = await alert_of(api, cid, "measure_renewal_due")
    assert (superseded["status"], superseded["acknowledged_by"], superseded["resolved_by"]) == (
        "resolved", JUDGE, "system"), superseded
    assert superseded["actions"] == {}, superseded
    records = await resolutions(api, renewal_due["id"])
    assert [(r["actor_login"], r["actor_role"], r["case_id"]) for r in records] == [("system", "system", cid)]
    assert records[0]["details"] == {"alert_kind": "measure_renewal_due", "lapse": {
        "alert_id": lapse["id"], "measure_id": first["id"], "expired_on": first["expires_on"]}}, records
    await watch.tick()
    assert len(await resolutions(api, renewal_due["id"])) == 1

    # A new freeze of the asset controls it again: the lapse alert resolves, naming it.
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE,
                                     json={**control, "ruling": ruling(clock.today(), 2)})
    assert status == 202, body
    second = await wait_measure(api, body["id"])
    assert second["status"] == "active", second
    assert (await alert_of(api, cid, "measure_lapsed"))["status"] == "resolved"
    assert [r["details"]["follow_up"]["id"] for r in await resolutions(api, lapse["id"])] == [second["id"]]

    # Its renewal falls due; released instead (the judge's choice): the alert resolves.
    clock.advance((date.fromisoformat(second["expires_on"]) - clock.today()).days - 5)
    assert (await watch.tick())[0] == 1
    due = await alert_of(api, cid, "measure_renewal_due", second["id"])
    status, body = await api.request("POST", f"/api/v1/measures/{second['id']}:release", login=JUDGE,
                                     json={"ruling": ruling(clock.today(), 3)})
    assert status == 202, body
    assert (await wait_measure(api, body["id"]))["status"] == "done"
    assert (await alert_of(api, cid, "measure_renewal_due", second["id"]))["status"] == "resolved"
    assert [r["details"]["follow_up"]["kind"] for r in await resolutions(api, due["id"])] == ["release"]
    assert await open_alerts(api, cid) == []
