"""A search's live stream once retention dropped its stored events (decision 1901 keeps events 12
months, tasks 72; decision 1950): opened on such a search it shows the tasks as submitted, each
agency's final state and the completion, with the payloads and times the live stream carried, and
ends; Last-Event-ID resumes after any of those derived events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.sdk.registry import Registry
from enforcement.api.keys import POOL
from enforcement.kernel.partitions import add_months, drop_expired, this_month
from tests.acceptance.test_search_flow import JUDGE, case_id, read_stream, search_body
from tests.agency_helpers import TERMINAL, overrides_for, sim_config


async def test_a_stream_past_event_retention_shows_each_agencys_final_state_and_the_completion(
    make_api: Any, registry: Registry, simulators: Any
) -> None:
    api = await make_api(agency_overrides=overrides_for(registry))
    pool = api.app[POOL]
    refusing = "hotels"  # an agency that ends failed, so a final state other than an answer is shown
    await sim_config(simulators[refusing].url, p_unauthorized=1.0)
    cid = await case_id(api)
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, json=search_body(cid))
    assert status == 202, body
    done = await api.wait_search(body["id"], JUDGE)
    final = {a["agency"]: a["status"] for a in done["agencies"]}
    assert final[refusing] == "failed" and set(final.values()) == {"succeeded", "failed"}, final
    live = await read_stream(api, body["events_url"])  # what a stream showed while the events were kept
    n = len(body["agencies"])

    # Fourteen months on, retention drops this month's events (kept 12 months); the tasks stay (72).
    month = add_months(this_month(), 14)
    later = datetime(month.year, month.month, 2, tzinfo=UTC)
    async with pool.acquire() as conn:
        result = await drop_expired(conn, task_months=72, event_months=12, now=later)
    assert f"search_event_p{this_month():%Y%m}" in {p.name for p in result.dropped}
    assert await pool.fetchval("SELECT count(*) FROM search_event WHERE search_id = $1::uuid", body["id"]) == 0
    assert await pool.fetchval("SELECT count(*) FROM agency_task WHERE search_id = $1::uuid", body["id"]) == n

    seen = await read_stream(api, body["events_url"])  # ends by itself (read_stream reads to the end)
    ids = [i for i, _, _ in seen]
    assert ids == list(range(-len(seen), 0))  # derived: negative, consecutive, the completion last (-1)
    # the tasks as submitted, as before
    assert seen[:n] == [(i - len(seen) + n, k, d) for i, k, d in live[:n]]
    # then each agency's final state once, then the completion
    finals = seen[n:-1]
    assert sorted(d["agency"] for _, _, d in finals) == sorted(final)
    assert {d["agency"]: d["status"] for _, _, d in finals} == final
    assert seen[-1][1] == "search_completed"
    # with the payloads and times the stored events carried
    last_live = {d["agency"]: d for _, k, d in live if k == "task" and d["status"] in TERMINAL}
    for _, kind, data in finals:
        assert kind == "task" and data == last_live[data["agency"]], (data, last_live[data["agency"]])
    assert seen[-1][2] == live[-1][2]
    assert finals[[d["agency"] for _, _, d in finals].index(refusing)][2]["error_code"]

    # Resumption across the derived ids: after any of them, the rest; after the completion, nothing.
    for after in (0, n - 1, n, len(seen) - 2):
        assert await read_stream(api, body["events_url"], last_event_id=str(ids[after])) == seen[after + 1:]
    assert await read_stream(api, body["events_url"], last_event_id=str(ids[-1])) == []
    # a client holding a stored id from before the drop: past everything derived, the stream ends
    assert await read_stream(api, body["events_url"], last_event_id=str(live[-1][0])) == []
    # the dossier is still the record
    status, view = await api.request("GET", f"/api/v1/searches/{body['id']}", login=JUDGE)
    assert status == 200 and view["dossier"] == done["dossier"]
