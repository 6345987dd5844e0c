"""Control measures at the real estate registry (the plug-in) and the securities depository, end to
end over real HTTP: a search of the case finds the property, the judge seals a unit (查封) or freezes
a holding (冻结证券) from its dossier entry, the agency's simulator holds it (in turn behind another
court: 轮候), for at most three years; renewed and released through the API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import aiohttp

from connectors.sdk.registry import Registry
from enforcement.measures.keys import MEASURE_CLOCK
from enforcement.seeds import CASES
from tests.acceptance.test_measures import ruling, wait_measure
from tests.acceptance.test_search_flow import case_id, search_body

# （2026）辽0102执1187号, zhangwei's: its second debtor holds two units (one sealed by another court
# already) and shares at both exchanges (none frozen).
CASE_NUMBER, COURT, JUDGE, *_rest, DEBTORS = CASES[1]
DEBTOR = DEBTORS[1]


async def dossier(api: Any) -> tuple[int, dict[str, Any]]:
    cid = await case_id(api, CASE_NUMBER)
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, json=search_body(cid, DEBTOR))
    assert status == 202, body
    view = await api.wait_search(body["id"], JUDGE)
    return cid, view["dossier"]["sections"]


async def controls_at(simulators: Any, agency: str, key: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(f"{simulators[agency].url}/_sim/controls/{key}") as r:
        return list((await r.json())["controls"]) if r.status == 200 else []


def three_years_on(day: date) -> str:
    return day.replace(year=day.year + 3).isoformat()  # the seeds' clock never stands on 29 February


async def submit(api: Any, cid: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, answer = await api.request("POST", f"/api/v1/cases/{cid}/measures", login=JUDGE, json=body)
    return status, answer


async def test_a_real_estate_unit_found_by_a_search_is_sealed_in_turn_and_released(
        make_api: Any, simulators: Any, registry: Registry) -> None:
    assert "real_estate" in registry, "make demo / make test install the real estate plug-in"
    api = await make_api()
    today = api.app[MEASURE_CLOCK].today()
    cid, sections = await dossier(api)
    units = {e["data"]["seizure_count"]: e for e in sections["real_estate"]}
    clear, seized = units[0], units[1]

    # Bad input first: no amount on a seal, no term beyond three years; nothing reaches the registry.
    status, body = await submit(api, cid, {"kind": "seal", "asset_kind": "real_estate", "amount": "100",
                                           "natural_key": clear["natural_key"], "ruling": ruling(today)})
    assert status == 422 and body["error"]["code"] == "amount_not_for_seal", body
    too_long = date.fromisoformat(three_years_on(today)) + timedelta(days=1)
    status, body = await submit(api, cid, {"kind": "seal", "asset_kind": "real_estate", "until": too_long.isoformat(),
                                           "natural_key": clear["natural_key"], "ruling": ruling(today)})
    assert status == 422 and body["error"]["code"] == "term_too_long", body
    assert await controls_at(simulators, "real_estate", clear["natural_key"]) == []

    status, body = await submit(api, cid, {"kind": "seal", "asset_kind": "real_estate",
                                           "natural_key": clear["natural_key"], "ruling": ruling(today)})
    assert status == 202, body
    seal = await wait_measure(api, body["id"])
    assert seal["status"] == "active" and seal["agency"] == "real_estate" and seal["queue_position"] == 1, seal
    assert seal["expires_on"] == three_years_on(today)
    held = await controls_at(simulators, "real_estate", clear["natural_key"])
    assert [(c["position"], c["until"]) for c in held] == [(1, seal["expires_on"])]

    status, body = await submit(api, cid, {"kind": "seal", "asset_kind": "real_estate",
                                           "natural_key": seized["natural_key"], "ruling": ruling(today, 2)})
    assert status == 202, body
    queued = await wait_measure(api, body["id"])
    assert queued["status"] == "active" and queued["queue_position"] == 2, queued  # 轮候查封

    status, body = await api.request("POST", f"/api/v1/measures/{seal['id']}:release", login=JUDGE,
                                     json={"ruling": ruling(today, 3)})
    assert status == 202, body
    assert (await wait_measure(api, body["id"]))["status"] == "done"
    status, released = await api.request("GET", f"/api/v1/measures/{seal['id']}", login=JUDGE)
    assert released["status"] == "released"
    assert [c["active"] for c in await controls_at(simulators, "real_estate", clear["natural_key"])] == [False]


async def test_a_securities_freeze_is_submitted_renewed_and_released_through_the_api(
        make_api: Any, simulators: Any) -> None:
    api = await make_api()
    clock = api.app[MEASURE_CLOCK]
    today = clock.today()
    cid, sections = await dossier(api)
    holding = sections["securities_holding"][0]
    base = {"kind": "freeze", "asset_kind": "securities_holding", "natural_key": holding["natural_key"]}

    status, body = await submit(api, cid, {**base, "amount": "1000", "ruling": ruling(today)})
    assert status == 422 and body["error"]["code"] == "amount_not_for_asset", body
    status, body = await submit(api, cid, {**base, "ruling": ruling(today)})
    assert status == 202, body
    freeze = await wait_measure(api, body["id"])
    assert freeze["status"] == "active" and freeze["agency"] == "securities" and freeze["queue_position"] == 1
    assert freeze["expires_on"] == three_years_on(today)  # 冻结其他财产权: at most three years
    held = await controls_at(simulators, "securities", holding["natural_key"])
    assert [(c["position"], c["active"]) for c in held] == [(1, True)]

    # No deduction of securities: refused before anything is sent.
    status, body = await submit(api, cid, {"kind": "deduct", "measure_id": freeze["id"], "amount": "10.00",
                                           "ruling": ruling(today, 2)})
    assert status == 409 and body["error"]["code"] == "not_a_freeze", body

    clock.advance((date.fromisoformat(freeze["expires_on"]) - today).days - 10)
    status, body = await api.request("POST", f"/api/v1/measures/{freeze['id']}:renew", login=JUDGE,
                                     json={"ruling": ruling(clock.today(), 3)})
    assert status == 202, body
    assert (await wait_measure(api, body["id"]))["status"] == "done"
    status, renewed = await api.request("GET", f"/api/v1/measures/{freeze['id']}", login=JUDGE)
    assert renewed["expires_on"] == three_years_on(date.fromisoformat(freeze["expires_on"]))
    held = await controls_at(simulators, "securities", holding["natural_key"])
    assert held[0]["until"] == renewed["expires_on"]

    status, body = await api.request("POST", f"/api/v1/measures/{freeze['id']}:release", login=JUDGE,
                                     json={"ruling": ruling(clock.today(), 4)})
    assert status == 202, body
    assert (await wait_measure(api, body["id"]))["status"] == "done"
    assert [c["active"] for c in await controls_at(simulators, "securities", holding["natural_key"])] == [False]
