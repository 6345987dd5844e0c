"""A crash in the expiry watch loses no lapse alert: marking a control lapsed and raising its lapse
alert (with the renewal-due alert it replaces resolved and audited) are one transaction, so a
failure between them leaves the control live and the next tick lapses it with exactly one alert."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from enforcement.api.keys import POOL
from enforcement.domain.audit import AuditEntry
from enforcement.kernel import metrics
from enforcement.kernel.audit import AuditLog, Conn
from enforcement.measures.keys import MEASURE_CLOCK, MEASURE_EXPIRY
from tests.acceptance.test_measures import JUDGE, found_account, ruling, wait_measure


class Crash(Exception):
    pass


class CrashingAudit(AuditLog):
    """The audit writer, failing (the process dying) at the watch's first audit write."""

    async def append_many(self, conn: Conn, entries: Sequence[AuditEntry]) -> list[int]:
        raise Crash


async def test_a_crash_between_lapse_and_its_alert_loses_no_alert(make_api: Any) -> None:
    api = await make_api()
    clock, watch, pool = api.app[MEASURE_CLOCK], api.app[MEASURE_EXPIRY], api.app[POOL]
    cid, account = await found_account(api)
    status, body = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json={
        "kind": "freeze", "asset_kind": "bank_account", "natural_key": account["natural_key"],
        "ruling": ruling(clock.today())})
    assert status == 202, body
    freeze = await wait_measure(api, body["id"])
    clock.advance((date.fromisoformat(freeze["expires_on"]) - clock.today()).days - 10)
    assert (await watch.tick())[0] == 1  # the renewal-due alert, which the lapse alert will replace

    clock.advance(11)
    audit = watch.store.audit
    watch.store.audit = CrashingAudit(b"k" * 32)
    try:
        await watch.tick()
        raise AssertionError("the tick did not crash")
    except Crash:
        pass
    finally:
        watch.store.audit = audit

    lapsed_before = metrics.MEASURES_LAPSED.labels(agency=freeze["agency"])._value.get()
    await watch.tick()
    await watch.tick()
    rows = await pool.fetch("SELECT id, status FROM case_alert WHERE case_id = $1 AND kind = 'measure_lapsed'", cid)
    assert len(rows) == 1 and rows[0]["status"] == "open", rows
    assert (await pool.fetchval("SELECT status FROM measure WHERE id = $1", freeze["id"])) == "lapsed"
    assert metrics.MEASURES_LAPSED.labels(agency=freeze["agency"])._value.get() == lapsed_before + 1
    due = await pool.fetchrow("SELECT id, status FROM case_alert WHERE case_id = $1 AND kind = 'measure_renewal_due'",
                              cid)
    assert due["status"] == "resolved"
    records = await pool.fetch("SELECT details FROM audit_log WHERE action = 'alert_resolved' AND target = $1",
                               f"alert:{due['id']}")
    assert [r["details"]["lapse"]["alert_id"] for r in records] == [rows[0]["id"]], records
