"""Issue 14, at the edge: path ids are ASCII digits within 64 bits (UUIDs in their canonical
form), query-string tokens only on the event stream, token lifetimes bounded and claims numeric,
every refusal audited (401s and callback refusals too, bounded), and the protocol answers
(405 with Allow, no version in Server, no echo of an oversized header)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
import pytest

from enforcement.api.auth import DEMO_ISSUER
from enforcement.api.keys import POOL
from enforcement.kernel.audit_chainer import AUDIT_CHAINER
from enforcement.seeds import CASES

NUMBER, _, JUDGE, *_ = CASES[0]
DEBTOR = CASES[0][-1][0]
SUBJECT = {"kind": DEBTOR.kind, "id_number": DEBTOR.id_number, "name": DEBTOR.name}
HUGE = "9" * 30  # far beyond 64 bits


async def case_id(api: Any) -> int:
    value: int = await api.app[POOL].fetchval("SELECT id FROM enforcement_case WHERE case_number = $1", NUMBER)
    return value


async def raw_http(api: Any, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """One request over a plain socket (for what aiohttp's client will not send); the response's
    status, headers (lower-case names) and body."""
    reader, writer = await asyncio.open_connection(api.server.host, api.server.port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(10):
            data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def demo_token(api: Any, login: str, **claims: Any) -> str:
    from enforcement.api.keys import SETTINGS

    issuer = api.app[DEMO_ISSUER]
    settings = api.app[SETTINGS]
    now = int(time.time())
    body = {"iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": login, "iat": now, "nbf": now,
            "exp": now + 300, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, issuer.private_key, algorithm="RS256")


# --- path ids -------------------------------------------------------------------------------

async def test_path_ids_are_ascii_digits_within_64_bits(make_api: Any) -> None:
    api = await make_api()
    cid = await case_id(api)
    for path in (f"/api/v1/cases/{HUGE}", f"/api/v1/cases/{HUGE}/events", f"/api/v1/cases/{HUGE}/closure-check",
                 f"/api/v1/cases/{2**63}/events", "/api/v1/cases/0/events", f"/api/v1/cases/0{cid}",
                 "/api/v1/cases/%EF%BC%91", f"/api/v1/cases/{str(cid)[0]}_{str(cid)[1:] or '0'}",
                 f"/api/v1/cases/+{cid}/closure-check", f"/api/v1/cases/%20{cid}/events"):
        status, body = await api.request("GET", path, login=JUDGE)
        assert (status, body["error"]["code"]) == (404, "case_not_found"), (path, body)
        assert body["error"]["message"]["zh"] and body["error"]["message"]["en"]
    status, body = await api.request("POST", f"/api/v1/cases/{HUGE}/events", login=JUDGE,
                                     json={"type": "notice_served", "occurred_on": "2026-01-05"})
    assert (status, body["error"]["code"]) == (404, "case_not_found")
    status, body = await api.request("POST", f"/api/v1/alerts/{HUGE}/status", login=JUDGE,
                                     json={"status": "acknowledged"})
    assert (status, body["error"]["code"]) == (404, "alert_not_found")
    # A case system's token: the bad id is decided before anything else (no 500, no DB round trip).
    for path in (f"/api/v1/cases/{HUGE}/events", f"/api/v1/cases/{HUGE}/closure-check"):
        status, body = await api.request("GET", path, login="cms-0102", role="case_system")
        assert (status, body["error"]["code"]) == (404, "case_not_found"), path
    status, body = await api.request("POST", f"/api/v1/cases/{HUGE}/events", login="cms-0102", role="case_system",
                                     json={"type": "notice_served", "occurred_on": "2026-01-05"})
    assert (status, body["error"]["code"]) == (404, "case_not_found")
    # The real id still works.
    status, _ = await api.request("GET", f"/api/v1/cases/{cid}/events", login=JUDGE)
    assert status == 200


async def test_search_and_batch_ids_are_canonical_uuids(make_api: Any) -> None:
    api = await make_api(role="api")
    status, created = await api.request("POST", "/api/v1/searches", login=JUDGE,
                                        json={"case_id": await case_id(api), "subject": SUBJECT})
    assert status == 202
    sid = created["id"]
    variants = [sid.replace("-", ""), "urn:uuid:" + sid, sid.replace("1", "\uff11").replace("2", "\uff12")]
    for v in variants:
        status, body = await api.request("GET", f"/api/v1/searches/{v}", login=JUDGE)
        assert (status, body["error"]["code"]) == (404, "search_not_found"), v
    status, body = await api.request("GET", f"/api/v1/searches/{{{sid}}}", login=JUDGE)
    assert status == 404  # braces never match the route
    status, _ = await api.request("GET", f"/api/v1/searches/{sid.upper()}", login=JUDGE)
    assert status == 200  # hex digits in either case are the same id
    status, body = await api.request("GET", f"/api/v1/searches:batch/{sid.replace('-', '')}", login=JUDGE)
    assert (status, body["error"]["code"]) == (404, "batch_not_found")


# --- tokens ---------------------------------------------------------------------------------

async def test_query_string_tokens_only_on_the_event_stream(make_api: Any) -> None:
    api = await make_api(role="api")
    token = api.token(JUDGE, "judge")
    status, body = await api.request("GET", f"/api/v1/cases?access_token={token}")
    assert (status, body["error"]["code"]) == (401, "query_token_not_allowed")
    status, body = await api.request("POST", f"/api/v1/searches?access_token={token}",
                                     json={"case_id": await case_id(api), "subject": SUBJECT})
    assert (status, body["error"]["code"]) == (401, "query_token_not_allowed")
    assert await api.app[POOL].fetchval("SELECT count(*) FROM search") == 0
    # Even with a good header beside it: a token in a URL is refused, not silently ignored.
    status, body = await api.request("GET", f"/api/v1/cases?access_token={token}", login=JUDGE)
    assert (status, body["error"]["code"]) == (401, "query_token_not_allowed")

    status, created = await api.request("POST", "/api/v1/searches", login=JUDGE,
                                        json={"case_id": await case_id(api), "subject": SUBJECT})
    assert status == 202
    events = f"/api/v1/searches/{created['id']}/events"
    async with api.session.get(api.url(f"{events}?access_token={token}")) as resp:
        assert resp.status == 200 and resp.content_type == "text/event-stream"
    # Both a header and a query token on the stream: ambiguous, refused.
    other = api.token("lina", "judge")
    async with api.session.get(api.url(f"{events}?access_token={other}"),
                               headers={"Authorization": f"Bearer {token}"}) as resp:
        body = await resp.json()
        assert (resp.status, body["error"]["code"]) == (401, "ambiguous_token")


async def test_token_lifetime_is_bounded_and_claims_are_numeric(make_api: Any) -> None:
    api = await make_api()
    now = int(time.time())
    ok = demo_token(api, JUDGE, exp=now + 12 * 3600 - 60)
    status, _ = await api.request("GET", "/api/v1/cases", headers={"Authorization": f"Bearer {ok}"})
    assert status == 200
    refused = {
        "31 years": demo_token(api, JUDGE, exp=now + 31 * 365 * 86400),
        "13 hours": demo_token(api, JUDGE, exp=now + 13 * 3600),
        "string exp": demo_token(api, JUDGE, exp=str(now + 300)),
        "string iat": demo_token(api, JUDGE, iat=str(now)),
        "string nbf": demo_token(api, JUDGE, nbf=str(now)),
        "boolean exp": demo_token(api, JUDGE, exp=True),
        "no iat": demo_token(api, JUDGE, iat=None),
    }
    for what, token in refused.items():
        status, body = await api.request("GET", "/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
        assert status == 401, (what, body)
    # The limit is a setting.
    api2 = await make_api(jwt_max_lifetime_seconds=3600)
    status, body = await api2.request("GET", "/api/v1/cases", headers={
        "Authorization": f"Bearer {demo_token(api2, JUDGE, exp=now + 7200)}"})
    assert (status, body["error"]["code"], body["error"]["details"]["reason"]) == (401, "token_invalid", "lifetime")
    # The demo sign-in still mints acceptable tokens.
    status, session = await api.request("POST", "/api/v1/demo/session", json={"login": JUDGE})
    assert status == 200
    status, _ = await api.request("GET", "/api/v1/cases", headers={"Authorization": f"Bearer {session['token']}"})
    assert status == 200


def test_demo_issuer_refuses_a_lifetime_beyond_the_limit(tmp_path: Any) -> None:
    from enforcement.api.auth import DemoIssuer
    from enforcement.kernel.settings import Settings

    settings = Settings(data_dir=tmp_path)
    issuer = DemoIssuer(tmp_path)
    assert issuer.issue(settings, JUDGE, "judge")
    with pytest.raises(ValueError, match="lifetime"):
        issuer.issue(settings, JUDGE, "judge", ttl_seconds=settings.jwt_max_lifetime_seconds + 1)


# --- refusals audited ------------------------------------------------------------------------

async def test_unauthenticated_refusals_are_audited_once_without_the_token(make_api: Any) -> None:
    api = await make_api()
    pool = api.app[POOL]
    cid = await case_id(api)
    status, _ = await api.request("GET", f"/api/v1/cases/{cid}/events", headers={"X-Request-Id": "anon-1"})
    assert status == 401
    expired = demo_token(api, JUDGE, iat=int(time.time()) - 7200, nbf=None, exp=int(time.time()) - 3600)
    status, _ = await api.request("GET", "/api/v1/cases", headers={"X-Request-Id": "anon-2",
                                                                  "Authorization": f"Bearer {expired}"})
    assert status == 401
    status, _ = await api.request("GET", "/api/v1/cases",
                                  headers={"X-Request-Id": "anon-3",
                                           "Authorization": f"Bearer {api.token('nobody', 'judge')}"})
    assert status == 401
    rows = {r["request_id"]: r for r in await pool.fetch(
        "SELECT * FROM audit_log WHERE request_id LIKE 'anon-%' AND action = 'refusal'")}
    assert set(rows) == {"anon-1", "anon-2", "anon-3"}
    one, two, three = rows["anon-1"], rows["anon-2"], rows["anon-3"]
    assert (one["reason"], one["actor_role"], one["target"]) == (
        "unauthenticated", "anonymous", "GET /api/v1/cases/{case_id}/events")
    # The case is known from the path: recorded with its court, so that court's supervisor sees it.
    assert (one["case_id"], one["case_number"], one["case_court"]) == (cid, NUMBER, "辽0102")
    assert two["reason"] == "token_expired" and expired not in str(dict(two))
    assert (three["reason"], three["actor_login"]) == ("unknown_user", "nobody")  # a signed token names its login
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE request_id = 'anon-1'") == 1


async def test_anonymous_refusal_audits_are_bounded(make_api: Any) -> None:
    api = await make_api(audit_anonymous_refusals_per_minute=5)
    pool = api.app[POOL]
    for i in range(12):
        status, _ = await api.request("GET", "/api/v1/cases", headers={"X-Request-Id": f"flood-{i}"})
        assert status == 401
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE request_id LIKE 'flood-%'") == 5


async def test_callback_refusals_are_audited(make_api: Any) -> None:
    api = await make_api(callback_secrets={"banks": "edge-secret"})
    pool = api.app[POOL]
    status, body = await api.request("POST", "/api/v1/agencies/banks/callbacks", data=b"{}",
                                     headers={"X-Request-Id": "cb-1", "Content-Type": "application/json",
                                              "X-Signature-Timestamp": str(int(time.time())),
                                              "X-Signature-Nonce": "n-1", "X-Signature": "00" * 32})
    assert (status, body["error"]["code"]) == (401, "bad_signature")
    rec = await pool.fetchrow("SELECT * FROM audit_log WHERE request_id = 'cb-1'")
    assert (rec["action"], rec["reason"], rec["actor_role"], rec["target"]) == (
        "refusal", "bad_signature", "agency", "POST /api/v1/agencies/{agency}/callbacks")
    assert rec["details"]["agency"] == "banks" and rec["details"]["status"] == 401


async def test_a_non_ascii_signature_is_a_refusal_not_a_500(make_api: Any) -> None:
    api = await make_api(callback_secrets={"banks": "edge-secret"})
    body = b"{}"
    request = (f"POST /api/v1/agencies/banks/callbacks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
               f"X-Signature-Timestamp: {int(time.time())}\r\nX-Signature-Nonce: n-2\r\n").encode()
    request += "X-Signature: é签名\r\n\r\n".encode() + body
    status, _, reply = await raw_http(api, request)
    assert status == 401 and b"bad_signature" in reply


async def test_ops_reads_the_refusals_that_belong_to_no_court(make_api: Any) -> None:
    api = await make_api()
    status, body = await api.request("GET", "/api/v1/cases", login="ops", role="ops",
                                     headers={"X-Request-Id": "ops-refused"})
    assert (status, body["error"]["code"]) == (403, "role_not_allowed")
    await api.request("GET", "/api/v1/cases", headers={"X-Request-Id": "ops-anon"})
    await api.request("GET", "/api/v1/cases/1", login="wangfang")  # a court's record: not for ops
    async with asyncio.timeout(10):
        await api.app[AUDIT_CHAINER].drain()
    status, trail = await api.request("GET", "/api/v1/audit", login="ops", role="ops")
    assert status == 200, trail
    assert trail["court_code"] is None
    ids = {r["request_id"] for r in trail["items"]}
    assert {"ops-refused", "ops-anon"} <= ids
    assert all(r["actor"]["court_code"] is None and r["case"] is None for r in trail["items"])


async def test_bulk_refusals_are_audited_per_row_and_supervisors_get_403(make_api: Any) -> None:
    api = await make_api(role="api")
    pool = api.app[POOL]
    cid = await case_id(api)
    rows = [{"case_id": cid, "subject": SUBJECT, "purpose": "财产调查"}]
    status, body = await api.request("POST", "/api/v1/searches:batch", login="chenjing", role="supervisor",
                                     json=rows, headers={"X-Request-Id": "bulk-sup"})
    assert (status, body["error"]["code"]) == (403, "role_cannot_search")
    status, single = await api.request("POST", "/api/v1/searches", login="chenjing", role="supervisor", json=rows[0])
    assert (status, single["error"]["code"]) == (403, "role_cannot_search")
    [rec] = await pool.fetch("SELECT * FROM audit_log WHERE request_id = 'bulk-sup'")
    assert (rec["reason"], rec["case_id"], rec["case_court"], rec["subject_key"], rec["purpose"]) == (
        "role_cannot_search", cid, "辽0102", f"person:{DEBTOR.id_number}", "财产调查")
    # A judge of another court: each refused row audited with its case and subject.
    status, body = await api.request("POST", "/api/v1/searches:batch", login="wangfang", json=rows * 2,
                                     headers={"X-Request-Id": "bulk-other"})
    assert status == 422 and body["error"]["code"] == "batch_invalid"
    recs = await pool.fetch("SELECT * FROM audit_log WHERE request_id = 'bulk-other' ORDER BY id")
    assert [(r["reason"], r["case_court"], r["actor_court"], r["details"]["batch_index"]) for r in recs] == [
        ("not_case_judge", "辽0102", "辽0103", 0), ("not_case_judge", "辽0102", "辽0103", 1)]
    # The owning court's supervisor sees them.
    async with asyncio.timeout(10):
        await api.app[AUDIT_CHAINER].drain()
    status, trail = await api.request("GET", "/api/v1/audit?action=refusal&actor=wangfang", login="chenjing",
                                      role="supervisor")
    assert status == 200 and {r["request_id"] for r in trail["items"]} >= {"bulk-other"}
    assert all(DEBTOR.id_number not in str(r) for r in trail["items"])


# --- protocol -------------------------------------------------------------------------------

async def test_405_carries_allow_and_server_shows_no_version(make_api: Any) -> None:
    api = await make_api()
    async with api.session.delete(api.url("/api/v1/cases"),
                                  headers={"Authorization": f"Bearer {api.token(JUDGE, 'judge')}"}) as resp:
        assert resp.status == 405
        assert set(resp.headers["Allow"].split(",")) >= {"GET", "POST"}
        assert (await resp.json())["error"]["code"] == "method_not_allowed"
        assert "aiohttp" not in resp.headers.get("Server", "") and "Python" not in resp.headers.get("Server", "")
    for path in ("/healthz", "/api/v1/cases", "/no/such/page", "/static/nothing.js"):
        async with api.session.get(api.url(path)) as resp:
            assert resp.headers.get("Server") == "enforcement", (path, resp.headers.get("Server"))


async def test_an_oversized_header_is_refused_without_echoing_it(make_api: Any) -> None:
    api = await make_api()
    secret = "eyJSECRETTOKEN" + "A" * 20000
    request = (f"GET /api/v1/cases HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               f"Authorization: Bearer {secret}\r\n\r\n").encode()
    status, headers, body = await raw_http(api, request)
    assert status in (400, 431)
    assert b"SECRETTOKEN" not in body and b"AAAAAAAAAA" not in body
    assert headers.get("server") == "enforcement"
    assert headers.get("content-type", "").startswith("application/json")
    assert b"header_too_large" in body
