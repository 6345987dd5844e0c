"""Bearer-token authentication: verify the JWT, load the user it names, gate the role, and audit
every refusal.

Production (``JWT_MODE=jwks``) verifies tokens of the court's identity provider with keys from a
JWKS document (``JWKS_URL``: an http(s) URL or a file), the issuer, the audience, expiry and
not-before with ``JWT_LEEWAY_SECONDS`` of clock skew. The demo has its own issuer, whose RSA key
pair lives in the data folder. The accepted algorithms come from configuration (asymmetric only),
never from the token: ``alg: none`` and an HMAC token signed with the public key are refused.

Every token must carry numeric ``exp`` and ``iat`` (and ``nbf``, when present, numeric too), and
live at most ``JWT_MAX_LIFETIME_SECONDS`` (``exp - iat``, 12 h by default). The token travels in
the ``Authorization: Bearer`` header; ``?access_token=`` only on the event stream
(``QUERY_TOKEN_ROUTES``: ``EventSource`` cannot send headers), and a request carrying both is
refused as ambiguous (decision 0902).

The user's role is the one in the database (``app_user``); a token that claims another role is
refused. Every refusal anywhere under ``/api/`` is written to the audit trail, in its own
transaction, before the response leaves: a 403 (``AccessDenied``) with the actor, and the case and
court when the refusal or the path names a case; a 401 as an ``anonymous`` actor (or the login a
validly signed token names), one record per request, the route template as target, never the
token, a header or the body, and at most ``AUDIT_ANONYMOUS_REFUSALS_PER_MINUTE`` per process
(beyond it counted in ``enforcement_refusals_unaudited_total``, and the next record says how many).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import jwt
import structlog
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from enforcement.api.errors import ApiError, Unauthenticated, Unavailable
from enforcement.api.health import metrics_token_matches
from enforcement.api.keys import ACTOR, PENDING_ACTOR, REQUEST_ID
from enforcement.api.params import parse_path_id
from enforcement.domain.actors import Actor
from enforcement.domain.audit import AuditEntry
from enforcement.domain.authorization import AccessDenied, check_api_gate, check_read_metrics
from enforcement.kernel import metrics
from enforcement.kernel.audit import AUDIT_TRAIL, AuditTrail
from enforcement.kernel.settings import Settings
from enforcement.kernel.users import USERS

log = structlog.get_logger(__name__)

# /api/v1/demo/: the workbench's demo sign-in (issue 6), which refuses itself unless JWT_MODE=demo.
PUBLIC_PREFIXES = ("/healthz", "/readyz", "/static/", "/favicon.ico", "/api/v1/demo/")
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                                   "ES512", "EdDSA"})
REQUIRED_CLAIMS = ("exp", "iat", "sub", "iss", "aud")
NUMERIC_CLAIMS = ("exp", "iat", "nbf")
# (method, route template) that take the token as ?access_token= (server-sent events only).
QUERY_TOKEN_ROUTES = frozenset({("GET", "/api/v1/searches/{search_id}/events")})
# (method, route template) whose handler loads the token's user itself, with its first statement
# (see PendingActor): submitting a search.
FOLDED_USER_ROUTES = frozenset({("POST", "/api/v1/searches")})
MAX_AUDITED_LOGIN = 100
VERIFIED_TOKENS = 10_000  # tokens remembered as verified, per process (TokenVerifier.verify)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class DemoIssuer:
    """The demo's own token issuer: an RSA key pair kept in the data folder (made on first use)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        key_path = folder / "demo-issuer-key.pem"
        if not key_path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            key_path.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            key_path.chmod(0o600)
        self.private_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        self.public_key = self.private_key.public_key()

    def issue(self, settings: Settings, login: str, role: str, *, ttl_seconds: int = 8 * 3600) -> str:
        """A signed RS256 token for ``login`` and ``role``, living ``ttl_seconds``; raises ValueError
        past ``JWT_MAX_LIFETIME_SECONDS``. It does not check that the user exists (the middleware does)."""
        if not 0 < ttl_seconds <= settings.jwt_max_lifetime_seconds:
            raise ValueError(f"a token's lifetime must be 1 to {settings.jwt_max_lifetime_seconds} seconds "
                             f"(JWT_MAX_LIFETIME_SECONDS), not {ttl_seconds}")
        now = int(time.time())
        claims = {
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "sub": login,
            "role": role,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
        }
        return jwt.encode(claims, self.private_key, algorithm="RS256")  # type: ignore[arg-type]


class KeySource(Protocol):
    """Where verification keys come from (the demo issuer's, or the identity provider's JWKS)."""

    async def key_for(self, header: dict[str, Any]) -> Any:
        """The key that verifies a token with this (unverified) header; raises ``Unauthenticated``
        when none does."""


class StaticKey:
    """One verification key (the demo issuer's public key)."""

    def __init__(self, key: Any) -> None:
        self.key = key

    async def key_for(self, header: dict[str, Any]) -> Any:
        """The one key, whatever the header says."""
        return self.key


def fetch_jwks(source: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """The JWKS document at an http(s) URL, a ``file://`` URL or a path (blocking: run in a thread)."""
    if source.startswith(("http://", "https://")):
        request = urllib.request.Request(source, headers={"Accept": "application/json"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - scheme checked above
            document: dict[str, Any] = json.loads(resp.read(1_000_000))
            return document
    path = Path(source[len("file://"):] if source.startswith("file://") else source)
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


class JwksKeys:
    """Signing keys of the identity provider, from its JWKS, cached; an unknown ``kid`` triggers
    a refetch (at most every ``min_refresh_seconds``), so key rotation needs no restart."""

    def __init__(self, source: str, *, cache_seconds: float = 300.0, min_refresh_seconds: float = 10.0) -> None:
        if not source:
            raise ValueError("JWT_MODE=jwks needs JWKS_URL (an http(s) URL or a file path)")
        self.source = source
        self.cache_seconds = cache_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self._keys: list[jwt.PyJWK] = []
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._loaded_at < self.min_refresh_seconds:
                return  # another request just refreshed
            try:
                document = await asyncio.to_thread(fetch_jwks, self.source)
                keys = [k for k in jwt.PyJWKSet.from_dict(document).keys if k.public_key_use in (None, "sig")]
            except (OSError, ValueError, jwt.PyJWKSetError) as exc:
                log.warning("jwks_unavailable", source=self.source, error=type(exc).__name__)
                if not self._keys:
                    raise Unavailable("The identity provider's keys are unavailable.",
                                      message_zh="无法获取身份认证服务的公钥", code="jwks_unavailable") from exc
                return
            self._keys = keys
            self._loaded_at = time.monotonic()

    def _pick(self, kid: Any) -> Any:
        if kid is None:
            return self._keys[0].key if len(self._keys) == 1 else None
        return next((k.key for k in self._keys if k.key_id == kid), None)

    async def key_for(self, header: dict[str, Any]) -> Any:
        """The JWKS key the header's ``kid`` names, refetching the set when stale or the kid is unknown."""
        if time.monotonic() - self._loaded_at > self.cache_seconds:
            await self._refresh()
        key = self._pick(header.get("kid"))
        if key is None and time.monotonic() - self._loaded_at >= self.min_refresh_seconds:
            await self._refresh()
            key = self._pick(header.get("kid"))
        if key is None:
            raise Unauthenticated("The token's signing key is unknown.", message_zh="令牌签名密钥未知",
                                  code="unknown_key")
        return key


def _invalid(reason: str, en: str, zh: str, code: str = "token_invalid") -> Unauthenticated:
    metrics.AUTH_FAILURES.labels(reason=reason).inc()
    return Unauthenticated(en, message_zh=zh, code=code, reason=reason)


class TokenVerifier:
    """Checks a bearer token against the configured algorithms, keys, issuer, audience and lifetime."""

    def __init__(self, settings: Settings, keys: KeySource) -> None:
        algorithms = tuple(a.strip() for a in settings.jwt_algorithms if a.strip())
        refused = [a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if refused or not algorithms:
            raise ValueError(f"JWT_ALGORITHMS must list asymmetric algorithms only (RS256, ES256, ...), "
                             f"not {refused or 'nothing'}")
        self.settings = settings
        self.algorithms = list(algorithms)
        self.keys = keys
        # token -> (header, key, claims, verified at, valid until): see verify.
        self._verified: dict[str, tuple[dict[str, Any], Any, dict[str, Any], float, float]] = {}

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; raises ``Unauthenticated`` (reason counted in the metrics) for a
        malformed, forged, expired, foreign or over-long token, ``Unavailable`` when the JWKS is.

        A token verified once is remembered (at most ``VERIFIED_TOKENS`` of them, in this
        process) with the key that verified it, and passes again without its signature being
        checked anew (PyJWT's decoding alone was half the API's Python calls per search,
        issue 19) only while nothing that decided it can have changed: the key the token's header
        names is still that very key (a JWKS refetch or rotation makes new key objects, so the
        token is verified again), and the time is between its verification and its expiry with
        the leeway (``exp`` is the only time claim that can turn a valid token invalid; ``nbf`` and
        ``iat`` only stay passed as time goes on). Every other check is a function of the token's
        own bytes. Refusals are never remembered. Whether its user is still active is not a
        property of the token: the middleware looks that up on every request."""
        remembered = self._verified.get(token)
        if remembered is not None:
            header, key, claims, verified_at, valid_until = remembered
            now = time.time()
            if verified_at <= now < valid_until and await self.keys.key_for(header) is key:
                return dict(claims)
            del self._verified[token]
        claims, header, key = await self._verify(token)
        verified_at = time.time()  # after PyJWT's own clock reading: nbf and iat passed by then
        if len(self._verified) >= VERIFIED_TOKENS:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = (header, key, claims, verified_at,
                                 int(claims["exp"]) + self.settings.jwt_leeway_seconds)
        return dict(claims)

    async def _verify(self, token: str) -> tuple[dict[str, Any], dict[str, Any], Any]:
        """The claims, the header and the key of a token checked in full (see ``verify``)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise _invalid("malformed", "The token is malformed.", "令牌格式错误") from exc
        if header.get("alg") not in self.algorithms:
            # alg: none, HS256 signed with the public key, or any algorithm not configured.
            raise _invalid("algorithm", "The token's algorithm is not accepted.", "令牌签名算法不被接受")
        key = await self.keys.key_for(header)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS), "verify_signature": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _invalid("expired", "The token has expired.", "令牌已过期", "token_expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise _invalid("not_yet_valid", "The token is not valid yet.", "令牌尚未生效",
                           "token_not_yet_valid") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise _invalid("missing_claim", f"The token lacks the claim {exc.claim!r}.",
                           f"令牌缺少声明 {exc.claim}") from exc
        except jwt.InvalidIssuerError as exc:
            raise _invalid("issuer", "The token's issuer is not accepted.", "令牌签发者不被接受") from exc
        except jwt.InvalidAudienceError as exc:
            raise _invalid("audience", "The token is not meant for this service.", "令牌的受众不是本服务") from exc
        except jwt.InvalidSignatureError as exc:
            raise _invalid("signature", "The token's signature is invalid.", "令牌签名无效") from exc
        except jwt.InvalidTokenError as exc:
            raise _invalid("invalid", f"The token is invalid: {type(exc).__name__}.", "令牌无效") from exc
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise _invalid("missing_claim", "The token's subject must be a login.", "令牌主体须为登录名")
        for name in NUMERIC_CLAIMS:
            value = claims.get(name)
            if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)
                                   or not math.isfinite(value)):
                raise _invalid("claim_type", f"The token's claim {name!r} must be a number (seconds).",
                               f"令牌声明 {name} 须为数字（秒）")
        lifetime = claims["exp"] - claims["iat"]
        if lifetime > self.settings.jwt_max_lifetime_seconds:
            raise _invalid("lifetime", f"The token lives longer than {self.settings.jwt_max_lifetime_seconds} s "
                           "(exp - iat).", f"令牌有效期超过 {self.settings.jwt_max_lifetime_seconds} 秒")
        return claims, header, key


def build_verifier(settings: Settings, issuer: DemoIssuer | None) -> TokenVerifier:
    """JWKS keys in production (``JWT_MODE=jwks``), the demo issuer's public key otherwise."""
    if settings.jwt_mode == "jwks":
        return TokenVerifier(settings, JwksKeys(settings.jwks_url, cache_seconds=settings.jwks_cache_seconds))
    if issuer is None:
        raise ValueError("the demo token mode needs the demo issuer")
    return TokenVerifier(settings, StaticKey(issuer.public_key))


def _route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource else request.path[:200]


def _token_of(request: web.Request) -> str:
    """The bearer token: from the header; from ``?access_token=`` only on the event stream, and
    never both (ambiguous: which one is the caller?)."""
    header = request.headers.get("Authorization", "")
    in_header = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if "access_token" not in request.query:
        return in_header
    if (request.method, _route_of(request)) not in QUERY_TOKEN_ROUTES:
        raise _invalid("query_token", "A token in the query string (access_token) is accepted only on event "
                       "streams; send it as 'Authorization: Bearer <token>'.",
                       "仅事件流接口接受查询参数中的令牌（access_token），请使用 Authorization: Bearer 请求头",
                       "query_token_not_allowed")
    if header:
        raise _invalid("ambiguous", "The request carries a token both in the Authorization header and in the "
                       "query string; send one.", "请求同时在请求头和查询参数中携带令牌，请只使用一种",
                       "ambiguous_token")
    return request.query.get("access_token", "")


async def _case_in_path(trail: AuditTrail, request: web.Request, ctx: dict[str, Any]) -> dict[str, Any]:
    """The refusal's case: what the refusal said, else the case the path names (with its court)."""
    if ctx.get("case_id") is not None or ctx.get("case_number") is not None:
        return ctx
    case_id = parse_path_id(request.match_info.get("case_id", ""))
    if case_id is None:
        return ctx
    ref = await trail.case_reference(case_id)
    if ref is None:
        return ctx
    return {**ctx, "case_id": case_id, "case_number": ref[0], "case_court": ref[1]}


class AnonymousRefusals:
    """The bound on refusal records written before anyone is known (a 401, an unsigned or forged
    callback): at most ``per_minute`` records per process and minute; the others are counted, and
    the next record written carries how many were not (``details.unaudited_before``)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._window = clock()
        self._written = 0
        self.suppressed = 0

    def admit(self) -> int | None:
        """None: do not write (over the bound); else write, saying this many were not written before."""
        now = self._clock()
        if now - self._window >= 60.0:
            self._window, self._written = now, 0
        if self._written >= self.per_minute:
            self.suppressed += 1
            metrics.REFUSALS_UNAUDITED.inc()
            return None
        self._written += 1
        skipped, self.suppressed = self.suppressed, 0
        return skipped


REFUSALS = web.AppKey("anonymous_refusals", AnonymousRefusals)
DEMO_ISSUER: web.AppKey[DemoIssuer | None] = web.AppKey("demo_issuer")  # None outside the demo (JWT_MODE=jwks)
TOKEN_VERIFIER = web.AppKey("token_verifier", TokenVerifier)


async def audit_anonymous_refusal(request: web.Request, bound: AnonymousRefusals, *, reason: str, status: int,
                                  login: str = "(anonymous)", role: str = "anonymous",
                                  details: dict[str, Any] | None = None) -> None:
    """A refusal before anyone is known, one record per request (bounded, see AnonymousRefusals);
    never the token, a header or the body."""
    skipped = bound.admit()
    if skipped is None:
        return
    trail = request.app[AUDIT_TRAIL]
    ctx = await _case_in_path(trail, request, {})
    extra: dict[str, Any] = {"status": status, **(details or {})}
    if skipped:
        extra["unaudited_before"] = skipped
    entry = AuditEntry(
        action="refusal", actor_login=login[:MAX_AUDITED_LOGIN], actor_role=role,
        case_id=ctx.get("case_id"), case_number=ctx.get("case_number"), case_court=ctx.get("case_court"),
        reason=reason, target=f"{request.method} {_route_of(request)}",
        request_id=str(request.get(REQUEST_ID, "")), details=extra,
    )
    try:
        await trail.record(entry)
    except Exception:
        log.error("refusal_audit_failed", reason=reason, exc_info=True)
        raise


async def audit_refusal(request: web.Request, actor: Actor, exc: AccessDenied | ApiError) -> None:
    """A refusal's audit record, in its own transaction."""
    trail = request.app[AUDIT_TRAIL]
    ctx = exc.audit_context if isinstance(exc, AccessDenied) else {}
    code = exc.code if isinstance(exc, AccessDenied) else exc.error_code
    ctx = await _case_in_path(trail, request, ctx)
    entry = AuditEntry(
        action="refusal",
        actor_login=actor.login,
        actor_role=actor.role,
        actor_court=actor.court_code,
        case_id=ctx.get("case_id"),
        case_number=ctx.get("case_number"),
        case_court=ctx.get("case_court"),
        subject_key=ctx.get("subject_key"),
        purpose=ctx.get("purpose"),
        reason=code,
        target=f"{request.method} {_route_of(request)}",
        request_id=str(request.get(REQUEST_ID, "")),
        details={"attempted": str(ctx.get("action", ""))} if ctx.get("action") else {},
    )
    metrics.ACCESS_DENIED.labels(reason=code).inc()
    try:
        await trail.record(entry)
    except Exception:
        log.error("refusal_audit_failed", reason=code, exc_info=True)
        raise


class PendingActor:
    """The user a verified token names, not looked up yet: on the routes of ``FOLDED_USER_ROUTES``
    the handler's own first statement loads the active user with what it reads anyway (one
    round trip less per search, issue 19), and hands it to ``settle``, which applies exactly
    what the middleware applies elsewhere before any handler runs: a 401 (audited) for no
    active user or another role than the token claims, then the API gate (a 403 the middleware
    audits). Whatever the handler raises before that, the middleware settles first, with the
    usual look-up, so a request is answered as if the user had been looked up first; and the
    statement takes nothing (no notice number) for a user it would refuse."""

    def __init__(self, request: web.Request, claims: dict[str, Any],
                 accept: Callable[[web.Request, dict[str, Any], Actor | None], Awaitable[Actor]]) -> None:
        self.login = str(claims["sub"])
        role = claims.get("role")
        self.claimed_role: str | None = role if isinstance(role, str) else None
        self.settled = False
        self._request = request
        self._claims = claims
        self._accept = accept

    async def settle(self, user: Actor | None) -> Actor:
        """The request's actor, from the user the statement (or the look-up) found; raises
        ``Unauthenticated`` (401) or ``AccessDenied`` (the gate's 403)."""
        self.settled = True
        actor = await self._accept(self._request, self._claims, user)
        self._request[ACTOR] = actor
        check_api_gate(actor, self._request.path)
        return actor


def make_auth_middleware(verifier: TokenVerifier, *, metrics_public: bool = True, metrics_token: str = "",
                         anonymous: AnonymousRefusals | None = None) -> Any:
    """The middleware in front of every route: public paths pass; others need a token naming an
    active user (the application's ``USERS``), pass the role gate, and have every refusal written
    to ``AUDIT_TRAIL``. ``metrics_token`` (METRICS_TOKEN), when set, opens /metrics to that bearer token, and
    /metrics is then never public; else ``metrics_public`` opens it to anyone. Either way an ops
    user's token reads it."""
    metrics_open = metrics_public and not metrics_token
    bound = anonymous if anonymous is not None else AnonymousRefusals(600)

    async def refused(request: web.Request, claims: dict[str, Any], exc: Unauthenticated) -> None:
        """A 401's audit record: a validly signed token names its login (unknown_user,
        role_mismatch); else nobody is known."""
        login = str(claims["sub"]) if claims.get("sub") else "(anonymous)"
        await audit_anonymous_refusal(request, bound, reason=exc.error_code, status=401, login=login,
                                      details={"auth": str(exc.details["reason"])} if "reason" in exc.details
                                      else None)

    async def verified(request: web.Request) -> dict[str, Any]:
        """The claims of the request's token; a 401 (audited, bounded) when there is none."""
        claims: dict[str, Any] = {}
        try:
            token = _token_of(request)
            if not token:
                metrics.AUTH_FAILURES.labels(reason="missing").inc()
                raise Unauthenticated()
            claims = await verifier.verify(token)
        except Unauthenticated as exc:
            await refused(request, claims, exc)
            raise
        return claims

    async def accept(request: web.Request, claims: dict[str, Any], actor: Actor | None) -> Actor:
        """The actor, when the user the token names is active and has the role it claims; a 401
        (audited, bounded) when not."""
        try:
            if actor is None:
                metrics.AUTH_FAILURES.labels(reason="unknown_user").inc()
                raise Unauthenticated("The token names no active user.", message_zh="令牌对应的用户不存在或已停用",
                                      code="unknown_user")
            claimed_role = claims.get("role")
            if claimed_role is not None and claimed_role != actor.role:
                metrics.AUTH_FAILURES.labels(reason="role_mismatch").inc()
                raise Unauthenticated("The token's role differs from the user's role.",
                                      message_zh="令牌中的角色与用户角色不符", code="role_mismatch")
        except Unauthenticated as exc:
            await refused(request, claims, exc)
            raise
        return actor

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        is_metrics = path == "/metrics"
        if is_metrics and (metrics_open or metrics_token_matches(request, metrics_token)):
            return await handler(request)
        if not is_metrics and (
            path.startswith(PUBLIC_PREFIXES) or path.endswith("/callbacks") or not path.startswith("/api/")
        ):
            return await handler(request)
        claims = await verified(request)
        pending: PendingActor | None = None
        if (request.method, _route_of(request)) in FOLDED_USER_ROUTES and isinstance(claims.get("role"), str | None):
            pending = PendingActor(request, claims, accept)
            request[PENDING_ACTOR] = pending
        else:
            actor = await accept(request, claims, await request.app[USERS].active(str(claims["sub"])))
            request[ACTOR] = actor
        try:
            try:
                if pending is None:
                    if is_metrics:
                        check_read_metrics(actor)
                    else:
                        check_api_gate(actor, path)
                return await handler(request)
            except Exception:
                if pending is not None and not pending.settled:
                    # Refused before the handler's statement looked the user up: the user decides
                    # first (a 401, or the gate's 403), as when the middleware looked them up.
                    await pending.settle(await request.app[USERS].active(pending.login))
                raise
        except AccessDenied as exc:
            if not exc.audited:
                await audit_refusal(request, request[ACTOR], exc)
            raise
        except ApiError as exc:  # a handler's own 403 (Forbidden) is a refusal too
            if exc.status == 403:
                await audit_refusal(request, request[ACTOR], exc)
            raise

    return authenticate


__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "DEMO_ISSUER",
    "FOLDED_USER_ROUTES",
    "QUERY_TOKEN_ROUTES",
    "REFUSALS",
    "TOKEN_VERIFIER",
    "AnonymousRefusals",
    "DemoIssuer",
    "JwksKeys",
    "KeySource",
    "PendingActor",
    "StaticKey",
    "TokenVerifier",
    "audit_anonymous_refusal",
    "audit_refusal",
    "build_verifier",
    "fetch_jwks",
    "make_auth_middleware",
]
