"""The web workbench, served by the service itself.

Pages: ``/`` and ``/ui/...`` all answer the same HTML shell; the browser's JavaScript modules
(``/static/js/``) pick the view from the address and read everything through ``/api/v1`` with
the signed-in user's bearer token, so every page is bound by exactly the API's authorization.
The shell and the assets are public; no data is in them.

Signing in: in demo mode (``Settings.jwt_mode == "demo"``) ``GET /api/v1/demo/users`` lists the
seeded judges and supervisors and ``POST /api/v1/demo/session`` issues a token for one of them;
both are refused in ``jwks`` mode, where the user pastes (or the identity provider hands over)
its own token. ``GET /api/v1/workbench/me`` tells the page who a token belongs to.

What the page offers (the search panel, the court-wide case list, the dashboard) follows the
``permissions`` both answers carry, computed by ``domain.authorization.permissions_of``: the
scripts never compare role names.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import structlog
from aiohttp import web

from enforcement.api.auth import DEMO_ISSUER
from enforcement.api.bodies import read_json
from enforcement.api.errors import Forbidden, NotFound, ValidationFailed
from enforcement.api.keys import SETTINGS, actor_of
from enforcement.domain.actors import Actor, Role
from enforcement.domain.authorization import permissions_of
from enforcement.kernel.settings import Settings
from enforcement.kernel.users import USERS

log = structlog.get_logger(__name__)

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
SHELL = WEB_ROOT / "index.html"
DEMO_TOKEN_TTL_SECONDS = 8 * 3600

# The shell loads only its own scripts and styles; data comes from the same origin.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

routes = web.RouteTableDef()


class DemoSignInDisabled(Forbidden):
    """The demo sign-in is disabled: sign in with your identity provider's token."""

    code, zh = "demo_sign_in_disabled", "演示登录已停用，请使用身份认证系统签发的令牌登录"


def _require_demo(settings: Settings) -> None:
    if settings.jwt_mode != "demo":
        raise DemoSignInDisabled()


@routes.get("/")
@routes.get("/ui")
@routes.get("/ui/{tail:.*}")
async def page(request: web.Request) -> web.StreamResponse:
    """Every page is the same shell; the address tells the scripts which view to draw."""
    return web.FileResponse(SHELL, headers=PAGE_HEADERS)


@routes.get("/api/v1/demo/users")
async def demo_users(request: web.Request) -> web.Response:
    """The judges, supervisors and operators the demo sign-in offers (403 ``demo_sign_in_disabled``
    outside the demo)."""
    _require_demo(request.app[SETTINGS])
    users = await request.app[USERS].sign_in_users()
    return web.json_response({"users": [u.to_dict() for u in users]})


@routes.post("/api/v1/demo/session")
async def demo_session(request: web.Request) -> web.Response:
    """A demo token for that judge, supervisor or operator, with their permissions (404
    ``user_not_found`` for anyone else)."""
    settings = request.app[SETTINGS]
    _require_demo(settings)
    body = await read_json(request)
    login = body.get("login")
    if not isinstance(login, str) or not login.strip():
        raise ValidationFailed("Field 'login' is required.", message_zh="缺少字段 login",
                               code="missing_field", field="login")
    user = await request.app[USERS].sign_in_user(login.strip())
    if user is None:
        raise NotFound("No active judge, supervisor or operator has this login.",
                       message_zh="没有该登录名的在职法官、院庭长或运维人员", code="user_not_found")
    issuer = request.app[DEMO_ISSUER]
    assert issuer is not None, "the demo mode has its issuer"
    token = issuer.issue(settings, user.login, user.role, ttl_seconds=DEMO_TOKEN_TTL_SECONDS)
    log.info("demo_session_issued", login=user.login, role=user.role)
    actor = Actor(user.login, cast(Role, user.role), user.display_name, user.court_code)
    return web.json_response({
        "token": token,
        "token_type": "Bearer",
        "expires_in": DEMO_TOKEN_TTL_SECONDS,
        "user": {**user.to_dict(), "permissions": sorted(permissions_of(actor))},
    })


@routes.get("/api/v1/workbench/me")
async def me(request: web.Request) -> web.Response:
    """Who the token belongs to, and what the workbench may offer them (``permissions``)."""
    actor = actor_of(request)
    return web.json_response({
        "login": actor.login,
        "display_name": actor.display_name,
        "role": actor.role,
        "court_code": actor.court_code,
        "court_name": await request.app[USERS].court_name(actor.court_code),
        "jwt_mode": request.app[SETTINGS].jwt_mode,
        "permissions": sorted(permissions_of(actor)),
    })


routes.static("/static", WEB_ROOT, show_index=False, follow_symlinks=False)


async def asset_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Assets are revalidated on every load (ETag), so a new release is never mixed with an old
    module a browser kept; and never sniffed as another type."""
    if request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-cache")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")


__all__ = ["PAGE_HEADERS", "WEB_ROOT", "asset_headers", "routes"]
