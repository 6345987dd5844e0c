"""Reuse instead of re-asking: the same subject asked of the same agency for the same case
within the agency's freshness window is answered from the stored answer, marked as reused with
its original time and source; the judge can force a fresh query, and that is recorded."""

from __future__ import annotations

from typing import Any

from enforcement.api.keys import POOL
from tests.agency_helpers import case_with_debtors, make_debtors, overrides_for, sim_stats

JUDGE = "zhangwei"


async def _search(api: Any, case_id: int, subject: dict[str, str], **extra: Any) -> dict[str, Any]:
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE,
                                     json={"case_id": case_id, "subject": subject, **extra})
    assert status == 202, body
    return await api.wait_search(body["id"], JUDGE, timeout=30)


async def test_a_fresh_answer_is_reused_marked_as_such_and_a_fresh_query_can_be_forced(
    make_api: Any, simulators: Any, registry: Any
) -> None:
    overrides = overrides_for(registry)
    overrides["hotels"]["freshness_hours"] = "0"  # hotels: never reused (a per-agency setting)
    api = await make_api(agency_overrides=overrides)
    pool = api.app[POOL]
    [debtor] = make_debtors(1, start=130_000)
    case_id = await case_with_debtors(pool, [debtor])
    other_case = await case_with_debtors(pool, [debtor], number="（2026）辽0102执8888888号")

    first = await _search(api, case_id, debtor.subject())
    assert all(not a["reused"] for a in first["agencies"])
    original = {a["agency"]: a for a in first["agencies"]}

    second = await _search(api, case_id, debtor.subject())
    by_agency = {a["agency"]: a for a in second["agencies"]}
    for name, a in by_agency.items():
        if name == "hotels":
            assert not a["reused"] and a["state"] == "succeeded"
            continue
        assert a["reused"] and a["state"] == "reused", a
        assert a["answered_at"] == original[name]["answered_at"]  # the original time
        assert a["reused_from_search"] == first["id"]  # ... and the original search
        assert a["attempts"] == 0  # nobody was asked
    for entries in second["dossier"]["sections"].values():
        for e in entries:
            assert all(p["reused"] == (p["agency"] != "hotels") for p in e["provenance"]), e
    assert second["dossier"]["entry_count"] == first["dossier"]["entry_count"]
    asked = {name: (await sim_stats(sim.url))["effective_queries"] for name, sim in simulators.items()}
    assert asked["hotels"] == 2 and all(n == 1 for name, n in asked.items() if name != "hotels"), asked

    forced = await _search(api, case_id, debtor.subject(), force_fresh=True)
    assert forced["force_fresh"] is True
    assert all(not a["reused"] and a["state"] == "succeeded" for a in forced["agencies"])
    assert await pool.fetchval("SELECT force_fresh FROM search WHERE id = $1::uuid", forced["id"]) is True
    for name, sim in simulators.items():
        assert (await sim_stats(sim.url))["effective_queries"] == asked[name] + 1, name

    # Another case: the answer belongs to the case that asked; the same subject is asked again.
    elsewhere = await _search(api, other_case, debtor.subject())
    assert all(not a["reused"] for a in elsewhere["agencies"])
