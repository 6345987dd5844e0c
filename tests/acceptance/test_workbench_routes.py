"""The workbench's server side: pages and assets served by the service, the demo sign-in (and its
refusal outside demo mode), and ``/api/v1/workbench/me``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from enforcement.api.web import WEB_ROOT


async def test_pages_are_one_shell_with_a_strict_content_policy(make_api: Any) -> None:
    api = await make_api()
    for path in ("/", "/ui/signin", "/ui/cases", "/ui/cases/1", "/ui/dashboard?court=%E8%BE%BD0102"):
        async with api.session.get(api.url(path)) as resp:
            assert resp.status == 200, path
            assert resp.content_type == "text/html"
            csp = resp.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
            body = await resp.text()
            assert '<script type="module" src="/static/js/main.js">' in body
            assert "赵建国" not in body  # the shell carries no data: it is read through the API


async def test_static_assets_are_served_and_every_module_import_resolves(make_api: Any) -> None:
    api = await make_api()
    modules = sorted(p.relative_to(WEB_ROOT).as_posix() for p in (WEB_ROOT / "js").rglob("*.js"))
    assert "js/main.js" in modules
    for rel in [*modules, "css/app.css", "img/favicon.svg"]:
        async with api.session.get(api.url(f"/static/{rel}")) as resp:
            assert resp.status == 200, rel
            if rel.endswith(".js"):
                assert resp.content_type in ("application/javascript", "text/javascript"), rel
            assert resp.headers["Cache-Control"] == "no-cache"
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
    # Every relative import names a file that exists (no build step resolves them for us).
    for rel in modules:
        text = (WEB_ROOT / rel).read_text(encoding="utf-8")
        for line in text.splitlines():
            if line.startswith("import ") and " from '" in line:
                target = line.split(" from '")[1].split("'")[0]
                assert (WEB_ROOT / rel).parent.joinpath(target).resolve().is_file(), (rel, target)
    async with api.session.get(api.url("/static/../enforcement/settings.py")) as resp:
        assert resp.status in (403, 404)


async def test_demo_sign_in_lists_users_and_issues_a_token_that_works(make_api: Any) -> None:
    api = await make_api()
    status, body = await api.request("GET", "/api/v1/demo/users")
    assert status == 200
    logins = {u["login"]: u for u in body["users"]}
    # the operator too (issue 18: the agencies' page); never an agency or a case system
    assert set(logins) == {"zhangwei", "lina", "wangfang", "chenjing", "liuyang", "ops"}
    assert logins["zhangwei"]["court_name"] == "沈阳市和平区人民法院"

    status, session = await api.request("POST", "/api/v1/demo/session", json={"login": "zhangwei"})
    assert status == 200
    assert session["user"]["role"] == "judge" and session["token_type"] == "Bearer"
    headers = {"Authorization": f"Bearer {session['token']}"}
    status, me = await api.request("GET", "/api/v1/workbench/me", headers=headers)
    assert status == 200
    judge_may = ["control_own_cases", "list_cases", "read_agencies", "read_alerts", "read_indicators",
                 "read_measures", "search_own_cases"]
    assert me == {"login": "zhangwei", "display_name": "张伟", "role": "judge", "court_code": "辽0102",
                  "court_name": "沈阳市和平区人民法院", "jwt_mode": "demo", "permissions": judge_may}
    assert session["user"]["permissions"] == judge_may  # the sign-in answer says the same
    status, sup = await api.request("POST", "/api/v1/demo/session", json={"login": "chenjing"})
    assert status == 200
    status, sup_me = await api.request("GET", "/api/v1/workbench/me",
                                       headers={"Authorization": f"Bearer {sup['token']}"})
    assert status == 200 and sup["user"]["permissions"] == sup_me["permissions"] == [
        "approve_deductions", "list_cases", "list_court_cases", "override_closure", "read_agencies", "read_alerts",
        "read_audit", "read_court_indicators", "read_indicators", "read_measures", "read_push_conflicts",
        "reject_deductions"]
    status, cases = await api.request("GET", "/api/v1/cases", headers=headers)
    assert status == 200 and cases["total"] == 4

    status, ops = await api.request("POST", "/api/v1/demo/session", json={"login": "ops"})
    assert status == 200 and ops["user"]["permissions"] == ["read_agencies", "read_audit", "read_metrics"], ops
    status, ops_me = await api.request("GET", "/api/v1/workbench/me",
                                       headers={"Authorization": f"Bearer {ops['token']}"})
    assert status == 200 and ops_me["role"] == "ops"  # no longer 403: the workbench opens for ops
    for login, code in (("bank-gateway", "user_not_found"), ("nobody", "user_not_found")):
        status, err = await api.request("POST", "/api/v1/demo/session", json={"login": login})
        assert (status, err["error"]["code"]) == (404, code), login
    status, err = await api.request("POST", "/api/v1/demo/session", json={})
    assert status == 422 and err["error"]["code"] == "missing_field"
    status, err = await api.request("GET", "/api/v1/workbench/me")
    assert status == 401


def _jwks_file(tmp_path: Path) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "idp-1", "use": "sig", "alg": "RS256"})
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}), encoding="utf-8")
    return str(path)


async def test_demo_sign_in_is_refused_with_an_identity_provider(make_api: Any, tmp_path: Path) -> None:
    api = await make_api(jwt_mode="jwks", jwks_url=_jwks_file(tmp_path), jwt_issuer="https://idp.court.example",
                         audit_chain_key="k" * 40)
    status, err = await api.request("GET", "/api/v1/demo/users")
    assert status == 403 and err["error"]["code"] == "demo_sign_in_disabled"
    assert err["error"]["message"]["zh"] and err["error"]["message"]["en"]
    status, err = await api.request("POST", "/api/v1/demo/session", json={"login": "zhangwei"})
    assert status == 403 and err["error"]["code"] == "demo_sign_in_disabled"
    # The pages themselves are still served: the user pastes the provider's token there.
    async with api.session.get(api.url("/ui/signin")) as resp:
        assert resp.status == 200


def test_the_documented_permissions_are_the_rules() -> None:
    """schemas/openapi.yaml lists every permission domain/authorization.py gives, and no other."""
    import yaml

    from enforcement.domain.authorization import PERMISSIONS

    doc = yaml.safe_load((WEB_ROOT.parent.parent / "schemas" / "openapi.yaml").read_text(encoding="utf-8"))
    assert doc["components"]["schemas"]["Permissions"]["items"]["enum"] == sorted(PERMISSIONS)


def test_no_script_compares_role_names() -> None:
    """The workbench follows the server's permissions; a role name compared in a script would
    be a second copy of the rules."""
    import re

    pattern = re.compile(r"\.role\s*[!=]==|role\s*[!=]==|'(judge|supervisor|case_system|ops|agency)'\s*[!=]==")
    for path in sorted((WEB_ROOT / "js").rglob("*.js")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not pattern.search(line), f"{path.name}:{number}: {line.strip()}"
