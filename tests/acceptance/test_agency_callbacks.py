"""Deferred bank answers arriving by signed callback: accepted when signed with the bank's own
secret, fresh and new; refused, changing nothing, when forged, stale, replayed, naming another
agency's ticket, or unknown; idempotent when the answer already came by polling."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import aiohttp

from connectors.banks.sim_tickets import BankSimulatorState
from connectors.sdk.signing import sign
from connectors.sdk.simulator_kit import STATE_KEY
from enforcement.api.keys import POOL
from enforcement.seeds import CASES
from tests.agency_helpers import overrides_for, sim_config, sim_stats, wait_until

SECRET = "bank-callback-secret-for-tests"
CASE_NUMBER, _, JUDGE, *_rest = CASES[0]
DEBTOR = CASES[0][-1][0]
SUBJECT = {"kind": DEBTOR.kind, "id_number": DEBTOR.id_number, "name": DEBTOR.name}


async def _start(make_api: Any, simulators: Any, **sim: Any) -> Any:
    await sim_config(simulators["banks"].url, **sim)
    return await make_api(callback_secrets={"banks": SECRET}, agency_overrides=overrides_for(["banks"]))


async def _search(api: Any, **extra: Any) -> str:
    cid = await api.app[POOL].fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", CASE_NUMBER)
    status, body = await api.request("POST", "/api/v1/searches", login=JUDGE,
                                     json={"case_id": cid, "subject": SUBJECT, **extra})
    assert status == 202, body
    return str(body["id"])


async def _bank_task(api: Any, search_id: str) -> Any:
    return await api.app[POOL].fetchrow(
        "SELECT id, status, ticket, answer_id, error_code FROM agency_task WHERE search_id = $1 AND agency = 'banks'",
        uuid.UUID(search_id),
    )


async def _ticket(api: Any, search_id: str) -> str:
    async def held() -> Any:
        row = await _bank_task(api, search_id)
        return row["ticket"] if row and row["status"] == "waiting" else None

    ticket: str = await wait_until(held, timeout=10, what="the bank's ticket")
    return ticket


def _bank_answer(simulators: Any, ticket: str) -> dict[str, Any]:
    """The answer the simulated bank prepared for the ticket (what it would push when due)."""
    state = simulators["banks"].runner.app[STATE_KEY]
    assert isinstance(state, BankSimulatorState)
    answer = state.tickets[ticket].answer
    assert answer is not None
    return dict(answer)


def _body(*items: dict[str, Any]) -> bytes:
    payload = {"NotifyNo": f"TZ{uuid.uuid4().hex[:12]}", "NotifyTime": "2026-01-01T00:00:00+08:00",
               "ItemCount": len(items), "Items": list(items)}
    return json.dumps(payload, ensure_ascii=False).encode()


async def _post(api: Any, body: bytes, headers: dict[str, str], agency: str = "banks") -> tuple[int, Any]:
    status, reply = await api.request("POST", f"/api/v1/agencies/{agency}/callbacks", data=body,
                                      headers={**headers, "Content-Type": "application/json"})
    return status, reply


async def test_a_signed_callback_answers_the_ticket_and_completes_the_search(make_api: Any, simulators: Any) -> None:
    # The bank answers in an hour: the dispatcher will not poll before the test ends.
    api = await _start(make_api, simulators, answer_delay_seconds=3600, callback_url="")
    search_id = await _search(api)
    ticket = await _ticket(api, search_id)
    answer = _bank_answer(simulators, ticket)
    body = _body(answer)

    async def others_done() -> bool:  # so that the bank's answer is the search's last
        return bool(await api.app[POOL].fetchval(
            """SELECT count(*) = 0 FROM agency_task WHERE search_id = $1 AND agency <> 'banks'
               AND status IN ('queued', 'running', 'waiting')""", uuid.UUID(search_id)))

    await wait_until(others_done, timeout=20, what="the other agencies' answers")

    status, reply = await _post(api, body, sign(SECRET, body))
    assert status == 200, reply
    assert reply == {"status": "accepted", "answers": 1, "applied": 1, "already_answered": 0,
                     "searches_completed": 1}
    task = await _bank_task(api, search_id)
    assert task["status"] == "succeeded" and task["answer_id"] is not None
    view = await api.wait_search(search_id, JUDGE, timeout=10)
    banks = next(a for a in view["agencies"] if a["agency"] == "banks")
    assert banks["status"] == "succeeded"
    assert banks["record_count"] == answer["AccountCount"]
    accounts = {e["natural_key"] for e in view["dossier"]["sections"].get("bank_account", [])}
    assert len(accounts) == answer["AccountCount"]


async def test_forged_stale_replayed_foreign_and_unknown_callbacks_are_refused_and_change_nothing(
    make_api: Any, simulators: Any
) -> None:
    api = await _start(make_api, simulators, answer_delay_seconds=3600, callback_url="")
    pool = api.app[POOL]
    search_id = await _search(api)
    ticket = await _ticket(api, search_id)
    body = _body(_bank_answer(simulators, ticket))

    async def unchanged() -> None:
        task = await _bank_task(api, search_id)
        assert task["status"] == "waiting" and task["answer_id"] is None, dict(task)
        assert await pool.fetchval("SELECT count(*) FROM agency_answer WHERE agency = 'banks'") == 0

    # Forged: signed with another secret, or the body changed after signing, or no signature.
    forged = [sign("not-the-bank-secret", body), sign(SECRET, body)]
    status, reply = await _post(api, body, forged[0])
    assert (status, reply["error"]["code"]) == (401, "bad_signature")
    tampered = body.replace(b'"AccountCount"', b'"AccountCount" ', 1)
    status, reply = await _post(api, tampered, forged[1])
    assert (status, reply["error"]["code"]) == (401, "bad_signature")
    status, reply = await _post(api, body, {})
    assert (status, reply["error"]["code"]) == (401, "unsigned_callback")
    await unchanged()

    # Stale: a correct signature over a timestamp six minutes old (or six minutes ahead).
    for skew in (-360, 360):
        status, reply = await _post(api, body, sign(SECRET, body, timestamp=time.time() + skew))
        assert (status, reply["error"]["code"]) == (401, "stale_callback"), reply
        assert reply["error"]["message"]["zh"] and reply["error"]["request_id"]
    await unchanged()

    # Another agency's ticket: refused, though correctly signed.
    other = await pool.fetchval("SELECT id FROM agency_task WHERE search_id = $1 AND agency = 'vehicles'",
                                uuid.UUID(search_id))
    await pool.execute("UPDATE agency_task SET ticket = 'VEH-TICKET-1' WHERE id = $1", other)
    foreign = _body({**_bank_answer(simulators, ticket), "Ticket": "VEH-TICKET-1"})
    status, reply = await _post(api, foreign, sign(SECRET, foreign))
    assert (status, reply["error"]["code"]) == (403, "foreign_ticket")
    # A ticket nobody holds.
    unknown = _body({**_bank_answer(simulators, ticket), "Ticket": "CX-NOBODY"})
    status, reply = await _post(api, unknown, sign(SECRET, unknown))
    assert (status, reply["error"]["code"]) == (404, "unknown_ticket")
    # Unreadable content, correctly signed.
    junk = b'{"Items": "not a list"}'
    status, reply = await _post(api, junk, sign(SECRET, junk))
    assert (status, reply["error"]["code"]) == (422, "bad_callback")
    # An agency that does not call back, or that does not exist.
    status, reply = await _post(api, body, sign(SECRET, body), agency="vehicles")
    assert (status, reply["error"]["code"]) == (404, "unknown_agency")
    await unchanged()

    # The genuine callback goes through once; the same message again is a replay.
    headers = sign(SECRET, body)
    status, reply = await _post(api, body, headers)
    assert status == 200 and reply["applied"] == 1
    answers = await pool.fetchval("SELECT count(*) FROM agency_answer WHERE agency = 'banks'")
    status, reply = await _post(api, body, headers)
    assert (status, reply["error"]["code"]) == (409, "replayed_callback")
    assert await pool.fetchval("SELECT count(*) FROM agency_answer WHERE agency = 'banks'") == answers == 1
    # Forged messages never reach the nonce store (so they cannot burn the bank's nonces).
    nonces = {r["nonce"] for r in await pool.fetch("SELECT nonce FROM callback_nonce WHERE agency = 'banks'")}
    assert headers["X-Signature-Nonce"] in nonces
    assert not nonces & {h["X-Signature-Nonce"] for h in forged}


async def test_a_callback_after_polling_answered_changes_nothing(make_api: Any, simulators: Any) -> None:
    api = await _start(make_api, simulators, answer_delay_seconds=0.2, callback_url="")
    pool = api.app[POOL]
    search_id = await _search(api)
    view = await api.wait_search(search_id, JUDGE, timeout=20)
    assert {a["agency"]: a["status"] for a in view["agencies"]}["banks"] == "succeeded"
    task = await _bank_task(api, search_id)
    raw_before = await pool.fetchval("SELECT raw FROM agency_answer WHERE id = $1", task["answer_id"])
    ticket = raw_before["Ticket"]
    late = _body({**raw_before, "Accounts": [], "AccountCount": 0, "ResultMessage": "查无信息"})

    status, reply = await _post(api, late, sign(SECRET, late))
    assert status == 200, reply
    assert (reply["applied"], reply["already_answered"]) == (0, 1)
    after = await _bank_task(api, search_id)
    assert after["answer_id"] == task["answer_id"] and after["status"] == "succeeded"
    assert await pool.fetchval("SELECT raw FROM agency_answer WHERE id = $1", task["answer_id"]) == raw_before
    assert await pool.fetchval("SELECT count(*) FROM agency_answer WHERE agency = 'banks'") == 1
    assert ticket


async def test_the_simulated_bank_calls_back_by_itself_after_simulated_days(make_api: Any, simulators: Any) -> None:
    # Two simulated days, at 86,400 simulated seconds per real second: about two real seconds.
    api = await _start(make_api, simulators, answer_delay_seconds=2 * 86400, time_scale=86400)
    await sim_config(simulators["banks"].url, callback_url=api.url("/api/v1/agencies/banks/callbacks"),
                     callback_secret=SECRET)
    ids = [await _search(api, force_fresh=True) for _ in range(3)]
    for search_id in ids:
        view = await api.wait_search(search_id, JUDGE, timeout=30)
        assert {a["agency"]: a["status"] for a in view["agencies"]}["banks"] == "succeeded"
    stats = await sim_stats(simulators["banks"].url, "/_sim/callbacks")
    assert stats.get("delivered", 0) >= 1, stats
    assert stats.get("failed", 0) == 0, stats


async def test_callbacks_need_no_bearer_token_but_the_agencies_view_does(make_api: Any) -> None:
    api = await make_api(callback_secrets={"banks": SECRET})
    async with aiohttp.ClientSession() as session, session.get(api.url("/api/v1/agencies")) as r:
        assert r.status == 401
    body = _body()
    status, reply = await _post(api, body, sign(SECRET, body))
    assert status == 200 and reply["answers"] == 0


async def test_the_agencies_view_counts_callbacks_accepted_and_refused_and_reports_each_secrets_age(
    make_api: Any, simulators: Any
) -> None:
    from datetime import date, timedelta

    issued = date.today() - timedelta(days=400)
    await sim_config(simulators["banks"].url)
    api = await make_api(callback_secrets={"banks": SECRET}, agency_overrides=overrides_for(["banks"]),
                         callback_secrets_issued={"banks": issued}, secret_max_age_days=180)

    async def banks_view() -> dict[str, Any]:
        status, data = await api.request("GET", "/api/v1/agencies", login="ops", role="ops")
        assert status == 200, data
        return next(a for a in data["agencies"] if a["name"] == "banks")

    before = (await banks_view())["callback_activity"]
    assert before["accepted"] == 0 and before["refused"] == 0 and before["last_at"] is None

    body = _body()
    status, _ = await _post(api, body, sign(SECRET, body))
    assert status == 200
    forged = _body()
    status, reply = await _post(api, forged, sign("not-the-bank's-secret", forged))
    assert (status, reply["error"]["code"]) == (401, "bad_signature")

    banks = await banks_view()
    activity = banks["callback_activity"]
    assert activity["window_seconds"] == 3600
    assert (activity["accepted"], activity["refused"]) == (1, 1)
    assert activity["last_result"] == "refused" and activity["last_reason"] == "bad_signature"
    assert activity["last_at"] is not None
    # another agency that does not call back shows no callbacks
    status, data = await api.request("GET", "/api/v1/agencies", login="ops", role="ops")
    assert all(a["callback_activity"] is None for a in data["agencies"] if not a["callbacks"])

    secrets = {s["kind"]: s for s in banks["secrets"]}
    cb = secrets["callback"]
    assert cb["setting"] == "AGENCY_BANKS_CALLBACK_SECRET" and cb["configured"] is True
    assert cb["issued_on"] == issued.isoformat()
    assert cb["secret_age_days"] in (399, 400, 401)  # Beijing's day may differ from this machine's
    assert cb["status"] == "too_old" and cb["runbook"] == "ops/runbook.md#rotating-keys-and-secrets"
    assert "请轮换" in cb["warning"]["zh"] and "rotate" in cb["warning"]["en"]
    cred = secrets["credential"]
    assert cred["secret_age_days"] is None
    assert cred["status"] in ("unrecorded", "not_configured")
    # the view never carries a secret
    assert SECRET not in json.dumps(data, ensure_ascii=False)
