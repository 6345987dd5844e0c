"""Authentication at the edge: tokens refused over HTTP, the database's role is authoritative,
production's JWKS keys, and /metrics for ops only when it is not public."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa

from enforcement.api.auth import DEMO_ISSUER, JwksKeys
from enforcement.api.errors import Unauthenticated, Unavailable
from enforcement.api.keys import POOL

IDP_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ROTATED_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
AUDIT_KEY = "acceptance-audit-chain-key-0123456789abcdef"


def jwk(key: Any, kid: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**data, "kid": kid, "use": "sig", "alg": "RS256"}


def idp_token(login: str, *, key: Any = IDP_KEY, kid: str = "idp-1", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": "https://idp.court.example", "aud": "enforcement-api", "sub": login, "iat": now, "nbf": now,
            "exp": now + 300, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


async def get(api: Any, path: str, token: str | None, **headers: str) -> tuple[int, Any]:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await api.request("GET", path, headers=headers)


async def test_tokens_refused_over_http(make_api: Any) -> None:
    api = await make_api()
    status, body = await get(api, "/api/v1/cases", None)
    assert (status, body["error"]["code"]) == (401, "unauthenticated")
    status, body = await get(api, "/api/v1/cases", "garbage")
    assert (status, body["error"]["code"]) == (401, "token_invalid")
    none_token = jwt.encode({"sub": "zhangwei", "iss": "enforcement-demo", "aud": "enforcement-api",
                             "iat": int(time.time()), "exp": int(time.time()) + 60}, key=None, algorithm="none")
    status, body = await get(api, "/api/v1/cases", none_token)
    assert (status, body["error"]["code"], body["error"]["details"]["reason"]) == (401, "token_invalid", "algorithm")
    # The role in the token must be the user's role in the database.
    status, body = await get(api, "/api/v1/audit", api.token("zhangwei", "supervisor"))
    assert (status, body["error"]["code"]) == (401, "role_mismatch")
    status, body = await get(api, "/api/v1/cases", api.token("nobody", "judge"))
    assert (status, body["error"]["code"]) == (401, "unknown_user")
    await api.app[POOL].execute("UPDATE app_user SET active = false WHERE login = 'lina'")
    status, body = await get(api, "/api/v1/cases", api.token("lina", "judge"))
    assert (status, body["error"]["code"]) == (401, "unknown_user")
    # Every 401 is audited (issue 14), one record each, as an anonymous caller unless a validly
    # signed token names the login; never the token itself.
    rows = await api.app[POOL].fetch("SELECT actor_login, actor_role, reason, details FROM audit_log ORDER BY id")
    assert [(r["actor_role"], r["reason"]) for r in rows] == [
        ("anonymous", "unauthenticated"), ("anonymous", "token_invalid"), ("anonymous", "token_invalid"),
        ("anonymous", "role_mismatch"), ("anonymous", "unknown_user"), ("anonymous", "unknown_user")]
    assert [r["actor_login"] for r in rows][3:] == ["zhangwei", "nobody", "lina"]
    assert "eyJ" not in str([dict(r) for r in rows])


async def test_the_query_string_token_is_refused_off_the_event_stream(make_api: Any) -> None:
    api = await make_api()
    status, body = await api.request("GET", f"/api/v1/cases?access_token={api.token('zhangwei', 'judge')}")
    assert (status, body["error"]["code"]) == (401, "query_token_not_allowed")


async def test_metrics_for_ops_only_when_not_public(make_api: Any) -> None:
    api = await make_api(metrics_public=False)
    status, body = await get(api, "/metrics", None)
    assert (status, body["error"]["code"]) == (401, "unauthenticated")
    status, body = await get(api, "/metrics", api.token("zhangwei", "judge"), **{"X-Request-Id": "metrics-judge"})
    assert (status, body["error"]["code"]) == (403, "role_not_allowed")
    assert await api.app[POOL].fetchval(
        "SELECT count(*) FROM audit_log WHERE request_id = 'metrics-judge' AND action = 'refusal'") == 1
    status, text = await get(api, "/metrics", api.token("ops", "ops"))
    assert status == 200 and "enforcement_auth_failures_total" in text
    status, _ = await get(api, "/healthz", None)
    assert status == 200
    status, body = await get(api, "/api/v1/cases", api.token("ops", "ops"))
    assert (status, body["error"]["code"]) == (403, "role_not_allowed")


async def test_metrics_are_public_by_default(make_api: Any) -> None:
    api = await make_api()
    status, text = await get(api, "/metrics", None)
    assert status == 200 and "enforcement_http_requests_total" in text


async def test_production_verifies_the_identity_providers_tokens_from_a_jwks_file(make_api: Any,
                                                                                tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk(IDP_KEY, "idp-1")]}))
    api = await make_api(jwt_mode="jwks", jwks_url=str(jwks), jwt_issuer="https://idp.court.example",
                         audit_chain_key=AUDIT_KEY)
    assert api.app[DEMO_ISSUER] is None  # no demo issuer in production
    status, body = await get(api, "/api/v1/cases", idp_token("zhangwei"))
    assert status == 200 and body["items"]
    status, body = await get(api, "/api/v1/cases", idp_token("zhangwei", iss="enforcement-demo"))
    assert (status, body["error"]["details"]["reason"]) == (401, "issuer")
    status, body = await get(api, "/api/v1/cases", idp_token("zhangwei", key=ROTATED_KEY, kid="idp-2"))
    assert (status, body["error"]["code"]) == (401, "unknown_key")
    status, body = await get(api, "/api/v1/cases", idp_token("zhangwei", key=ROTATED_KEY, kid="idp-1"))
    assert (status, body["error"]["details"]["reason"]) == (401, "signature")
    status, body = await api.request("GET", "/api/v1/demo/users")
    assert status == 403  # the demo sign-in is off in production


async def test_jwks_from_a_url_is_cached_and_refetched_for_a_new_key() -> None:
    served = {"keys": [jwk(IDP_KEY, "idp-1")]}
    fetches = 0

    async def handler(_request: web.Request) -> web.Response:
        nonlocal fetches
        fetches += 1
        return web.json_response(served)

    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        keys = JwksKeys(str(server.make_url("/.well-known/jwks.json")), cache_seconds=300, min_refresh_seconds=0)
        assert await keys.key_for({"kid": "idp-1"}) is not None
        assert await keys.key_for({"kid": "idp-1"}) is not None
        assert fetches == 1  # cached
        served["keys"].append(jwk(ROTATED_KEY, "idp-2"))  # the provider rotates its keys
        assert await keys.key_for({"kid": "idp-2"}) is not None
        assert fetches == 2
        with pytest.raises(Unauthenticated):
            await keys.key_for({"kid": "idp-9"})
    finally:
        await server.close()


async def test_unreachable_jwks_is_unavailable_not_a_bypass(tmp_path: Path) -> None:
    keys = JwksKeys(str(tmp_path / "missing.json"))
    with pytest.raises(Unavailable):
        await keys.key_for({"kid": "idp-1"})


def test_production_requires_a_jwks_source_and_an_audit_key(tmp_path: Path) -> None:
    from enforcement.app import create_app
    from enforcement.kernel.settings import Settings

    with pytest.raises(ValueError, match="JWKS_URL"):
        create_app(Settings(database_url="postgresql://unused/none", data_dir=tmp_path, jwt_mode="jwks",
                            audit_chain_key=AUDIT_KEY))
    with pytest.raises(ValueError, match="AUDIT_CHAIN_KEY"):
        create_app(Settings(database_url="postgresql://unused/none", data_dir=tmp_path, jwt_mode="jwks",
                            jwks_url=str(tmp_path / "jwks.json")))


async def test_token_issue_prints_a_token_for_a_seeded_user(make_api: Any, db_url: str, tmp_path: Path) -> None:
    import asyncio
    import os
    import sys

    api = await make_api()

    async def issue(user: str, **env: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "enforcement.cli", "token", "issue", "--user", user,
            env={**os.environ, "DATABASE_URL": db_url, "ENFORCEMENT_DATA_DIR": str(tmp_path), **env},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, _err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode is not None
        return proc.returncode, out.decode().strip()

    code, token = await issue("cms-0102")
    assert code == 0, token
    assert jwt.decode(token, options={"verify_signature": False})["role"] == "case_system"
    status, body = await get(api, "/api/v1/cases", token)
    assert (status, body["error"]["code"]) == (403, "role_cannot_read")  # a case system pushes, never reads
    code, token = await issue("chenjing")
    status, _ = await get(api, "/api/v1/audit", token)
    assert (code, status) == (0, 200)
    code, out = await issue("nobody")
    assert code == 2 and "nobody" in out
    code, out = await issue("zhangwei", JWT_MODE="jwks")
    assert code == 2 and "identity provider" in out
