"""An agency that never answers in time: its task ends as ``expired`` at the agency's deadline,
with the reason shown in the dossier, and the search still completes. A bank ticket never
answered expires the same way."""

from __future__ import annotations

from typing import Any

from enforcement.api.keys import POOL
from tests.agency_helpers import case_with_debtors, make_debtors, overrides_for, sim_config

JUDGE = "zhangwei"


async def test_a_task_without_an_answer_by_its_deadline_ends_expired_with_its_reason(
    make_api: Any, simulators: Any, registry: Any
) -> None:
    overrides = overrides_for(registry)
    overrides["vehicles"].update(deadline_seconds="2", breaker_min_calls="1000")  # keeps failing, never opens
    overrides["banks"].update(deadline_seconds="3")
    api = await make_api(agency_overrides=overrides)
    await sim_config(simulators["vehicles"].url, down=True)
    await sim_config(simulators["banks"].url, answer_delay_seconds=3600)  # tickets, but no answer for an hour
    [debtor] = make_debtors(1, start=140_000)
    case_id = await case_with_debtors(api.app[POOL], [debtor])
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE,
                                     json={"case_id": case_id, "subject": debtor.subject()})
    assert status == 202
    view = await api.wait_search(body["id"], JUDGE, timeout=30)
    by_agency = {a["agency"]: a for a in view["agencies"]}
    vehicles, banks = by_agency["vehicles"], by_agency["banks"]
    assert vehicles["status"] == "expired" and vehicles["attempts"] >= 2
    # Why it never answered: the last error, whether the dispatcher gave up at the deadline
    # (code http_503) or the expiry sweep ended it there (code deadline, last error in the message).
    reason = f"{vehicles['error']['code']} {vehicles['error']['message']}"
    assert "http_503" in reason or "HTTP 503" in reason, reason
    assert "截止期限" in reason and "deadline" in reason
    assert banks["status"] == "expired" and banks["error"]["code"] == "deadline"
    assert "截止期限" in banks["error"]["message"]
    assert all(a["status"] == "succeeded" for n, a in by_agency.items() if n not in ("vehicles", "banks"))
    assert view["status"] == "completed"
