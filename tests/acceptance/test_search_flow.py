"""A judge's search over real HTTP: every installed agency (the five built-in ones and any plug-in
connector), one merged dossier, events as they arrive."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from connectors.sdk.registry import Registry
from enforcement.api.keys import POOL
from enforcement.seeds import CASES
from tests.agency_helpers import case_with_debtors, make_debtors, overrides_for

CASE_NUMBER, _, JUDGE, *_rest = CASES[0]
DEBTOR = CASES[0][-1][0]
BUILT_IN = {"banks", "exit_entry", "hotels", "securities", "social_insurance", "vehicles"}


def agencies_for(registry: Registry, kind: str = DEBTOR.kind) -> set[str]:
    """The installed agencies that cover this kind of subject: the five built-in ones at least."""
    names = {n for n in registry if kind in registry[n].manifest.subject_kinds}
    assert names >= BUILT_IN
    return names


async def case_id(api: Any, number: str = CASE_NUMBER) -> int:
    value: int = await api.app[POOL].fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", number)
    return value


def search_body(cid: int, debtor: Any = DEBTOR, **extra: Any) -> dict[str, Any]:
    return {"case_id": cid, "subject": {"kind": debtor.kind, "id_number": debtor.id_number, "name": debtor.name},
            "purpose": "财产调查", **extra}


async def test_search_completes_with_every_agency_and_a_merged_dossier(make_api: Any, registry: Registry) -> None:
    api = await make_api()
    cid = await case_id(api)
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, json=search_body(cid))
    assert status == 202, body
    assert body["url"] == f"/api/v1/searches/{body['id']}"
    agencies = agencies_for(registry)
    assert sorted(a["agency"] for a in body["agencies"]) == sorted(agencies)

    view = await api.wait_search(body["id"], JUDGE)
    statuses = {a["agency"]: a["status"] for a in view["agencies"]}
    assert statuses == dict.fromkeys(statuses, "succeeded"), view["agencies"]

    # The dossier holds exactly the records the agencies stored, merged by natural key.
    rows = await api.app[POOL].fetch(
        """SELECT r.kind, r.natural_key FROM asset_record r JOIN agency_answer a ON a.id = r.answer_id
           WHERE a.search_id = $1""", __import__("uuid").UUID(body["id"]))
    expected = {(r["kind"], r["natural_key"]) for r in rows}
    got = {(kind, e["natural_key"]) for kind, entries in view["dossier"]["sections"].items() for e in entries}
    assert got == expected
    assert view["dossier"]["entry_count"] == len(expected)
    for entries in view["dossier"]["sections"].values():
        for e in entries:
            assert e["provenance"] and e["provenance"][0]["agency"] in statuses
    # Every agency answered, and its raw answer is stored for audit (an empty one too).
    n_answers = await api.app[POOL].fetchval(
        "SELECT count(*) FROM agency_answer WHERE search_id = $1", __import__("uuid").UUID(body["id"]))
    assert n_answers == len(agencies)


async def test_invalid_id_number_is_refused_before_any_agency_is_asked(make_api: Any) -> None:
    api = await make_api()
    cid = await case_id(api)
    bad = search_body(cid)
    bad["subject"]["id_number"] = DEBTOR.id_number[:-1] + ("0" if DEBTOR.id_number[-1] != "0" else "1")
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, json=bad)
    assert status == 422
    assert body["error"]["code"] == "invalid_resident_id"
    assert "check" in body["error"]["message"]["en"].lower()
    assert body["error"]["message"]["zh"]
    assert body["error"]["request_id"]
    assert DEBTOR.id_number[:-1] not in json.dumps(body, ensure_ascii=False)
    assert await api.app[POOL].fetchval("SELECT count(*) FROM agency_task") == 0


async def read_stream(api: Any, url: str, login: str = JUDGE,
                      last_event_id: str | None = None) -> list[tuple[int, str, dict[str, Any]]]:
    """Every event of an SSE stream until it ends (after ``search_completed``): (id, kind, data)."""
    headers = {"Authorization": f"Bearer {api.token(login, 'judge')}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    seen: list[tuple[int, str, dict[str, Any]]] = []
    async with api.session.get(api.url(url), headers=headers, timeout=aiohttp.ClientTimeout(total=30)) as resp:
        assert resp.status == 200 and resp.content_type == "text/event-stream"
        event_id, kind = 0, ""
        async for raw in resp.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                seen.append((event_id, kind, json.loads(line[6:])))
    return seen


async def test_the_stream_begins_with_the_tasks_as_submitted_and_resumes_after_any_event(
    make_api: Any, registry: Registry
) -> None:
    """The submission's task events are derived from the tasks, not stored (decision 1930): the
    stream shows them first all the same, with ids below every stored event's, so a client that
    reconnects with Last-Event-ID gets the rest, derived or stored, nothing twice."""
    api = await make_api()
    cid = await case_id(api)
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, json=search_body(cid))
    assert status == 202
    assert await api.app[POOL].fetchval(  # nothing written for the submission
        "SELECT count(*) FROM search_event WHERE search_id = $1::uuid AND payload->>'status' = 'queued'",
        body["id"]) == 0
    seen = await read_stream(api, body["events_url"])
    n = len(body["agencies"])
    tasks = await api.app[POOL].fetch("SELECT id, agency FROM agency_task WHERE search_id = $1::uuid ORDER BY id",
                                      body["id"])
    assert [t["agency"] for t in tasks] == [a["agency"] for a in body["agencies"]]  # the submission's order
    assert [(i, k, d["agency"], d["task_id"], d["status"], d["reused"]) for i, k, d in seen[:n]] == [
        (j - n, "task", t["agency"], t["id"], "queued", False) for j, t in enumerate(tasks)]
    assert all(d["at"] for _, _, d in seen[:n])
    ids = [i for i, _, _ in seen]
    assert ids == sorted(set(ids)) and all(i > 0 for i in ids[n:])  # increasing, none twice
    assert seen[-1][1] == "search_completed"
    answered = [d["agency"] for _, k, d in seen if k == "task" and d["status"] == "succeeded"]
    assert sorted(answered) == sorted(agencies_for(registry))  # each answer once
    # Reconnecting after any event (a derived one, the last derived one, a stored one): the rest.
    for after in (0, n - 1, n, len(seen) - 2):
        assert await read_stream(api, body["events_url"], last_event_id=str(ids[after])) == seen[after + 1:]
    # Reconnecting after the completion itself: nothing more, and the stream ends (it used to stay
    # open, waiting for a completion the client had already seen).
    assert await read_stream(api, body["events_url"], last_event_id=str(ids[-1])) == []
    # No cursor, or one that is not an event id: from the start.
    assert await read_stream(api, body["events_url"], last_event_id="") == seen
    assert await read_stream(api, body["events_url"], last_event_id="x" * 30) == seen
    assert await read_stream(api, body["events_url"], last_event_id=str(-(2**70))) == seen


async def test_a_search_answered_at_submission_shows_its_tasks_and_its_completion_to_a_stream(
    make_api: Any, registry: Registry
) -> None:
    api = await make_api(agency_overrides=overrides_for(registry))
    pool = api.app[POOL]
    [debtor] = make_debtors(1, start=131_000)
    cid = await case_with_debtors(pool, [debtor])
    status, first = await api.request("POST", "/api/v1/searches", login=JUDGE,
                                      json={"case_id": cid, "subject": debtor.subject()})
    assert status == 202
    await api.wait_search(first["id"], JUDGE, timeout=30)
    status, again = await api.request("POST", "/api/v1/searches", login=JUDGE,
                                      json={"case_id": cid, "subject": debtor.subject()})
    assert status == 202 and all(a["reused"] for a in again["agencies"])
    seen = await read_stream(api, again["events_url"])
    n = len(again["agencies"])
    assert [(i, k, d["status"], d["reused"]) for i, k, d in seen[:n]] == [
        (j - n, "task", "succeeded", True) for j in range(n)]
    assert [k for _, k, _ in seen[n:]] == ["search_completed"] and seen[-1][0] > 0
    assert seen[-1][2]["duration_seconds"] == 0


async def test_events_stream_delivers_each_agency_answer(make_api: Any, registry: Registry) -> None:
    api = await make_api()
    cid = await case_id(api)
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, json=search_body(cid))
    assert status == 202
    token = api.token(JUDGE, "judge")
    seen: list[tuple[str, dict[str, Any]]] = []
    timeout = aiohttp.ClientTimeout(total=30)
    async with api.session.get(api.url(body["events_url"]), headers={"Authorization": f"Bearer {token}"},
                               timeout=timeout) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/event-stream"
        event = None
        async for raw in resp.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event:
                seen.append((event, json.loads(line[6:])))
    kinds = [k for k, _ in seen]
    assert kinds[-1] == "search_completed"
    succeeded = {d["agency"] for k, d in seen if k == "task" and d["status"] == "succeeded"}
    assert succeeded == agencies_for(registry)


async def test_a_streams_idle_replays_read_the_stored_events_alone_once_the_derived_ones_are_sent(
    make_api: Any, registry: Registry, simulators: Any, monkeypatch: Any
) -> None:
    """The first replay sends every derived event (ids below 0, fixed at submission); the replays
    a stream makes when idle (and at the completion) then start at 0: no task is read again."""
    from enforcement.searches.keys import SEARCHES
    from enforcement.searches.store.searches import EVENTS_FROM_START
    from tests.agency_helpers import sim_config

    api = await make_api()
    await sim_config(simulators["banks"].url, answer_delay_seconds=5.0)  # the search runs a while
    service = api.app[SEARCHES]
    cursors: list[int] = []
    events_of = service.events_of

    async def spied(search_id: Any, after: int = EVENTS_FROM_START) -> Any:
        cursors.append(after)
        return await events_of(search_id, after)

    monkeypatch.setattr(service, "events_of", spied)
    cid = await case_id(api)
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE, json=search_body(cid))
    assert status == 202
    seen = await read_stream(api, body["events_url"])
    n = len(body["agencies"])
    assert [i for i, _, _ in seen[:n]] == list(range(-n, 0)) and seen[-1][1] == "search_completed"
    assert sorted(d["agency"] for _, k, d in seen if k == "task" and d["status"] == "succeeded") == sorted(
        agencies_for(registry))
    assert cursors[0] == EVENTS_FROM_START
    assert len(cursors) >= 3 and set(cursors[1:]) == {0}, cursors  # idle replays, then the completion's
