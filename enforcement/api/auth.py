"""Bearer-token authentication: verify the JWT, load the user it names, gate the role, and audit
every refusal.

Production (``JWT_MODE=jwks``) verifies tokens of the court's identity provider with keys from a
JWKS document (``JWKS_URL``: an http(s) URL or a file), the issuer, the audience, expiry and
not-before with ``JWT_LEEWAY_SECONDS`` of clock skew. The demo has its own issuer, whose RSA key
pair lives in the data folder. The accepted algorithms come from configuration (asymmetric only),
never from the token: ``alg: none`` and an HMAC token signed with the public key are refused.

The user's role is the one in the database (``app_user``); a token that claims another role is
refused. A refusal (``AccessDenied``, 403) anywhere under ``/api/`` is written to the audit trail,
in its own transaction, before the response leaves.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import jwt
import structlog
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from enforcement import metrics
from enforcement.api.errors import ApiError, Unauthenticated, Unavailable
from enforcement.api.health import metrics_token_matches
from enforcement.api.keys import ACTOR, REQUEST_ID
from enforcement.domain.actors import Actor
from enforcement.domain.audit import AuditEntry
from enforcement.domain.authorization import AccessDenied, check_api_gate
from enforcement.settings import Settings
from enforcement.store.audit import AuditLog
from enforcement.store.users import load_active_user

log = structlog.get_logger(__name__)

# /api/v1/demo/: the workbench's demo sign-in (issue 6), which refuses itself unless JWT_MODE=demo.
PUBLIC_PREFIXES = ("/healthz", "/readyz", "/static/", "/favicon.ico", "/api/v1/demo/")
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                                   "ES512", "EdDSA"})
REQUIRED_CLAIMS = ("exp", "iat", "sub", "iss", "aud")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class DemoIssuer:
    """The demo's own token issuer: an RSA key pair kept in the data folder."""

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
    async def key_for(self, header: dict[str, Any]) -> Any: ...


class StaticKey:
    """One verification key (the demo issuer's public key)."""

    def __init__(self, key: Any) -> None:
        self.key = key

    async def key_for(self, header: dict[str, Any]) -> Any:
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
    def __init__(self, settings: Settings, keys: KeySource) -> None:
        algorithms = tuple(a.strip() for a in settings.jwt_algorithms if a.strip())
        refused = [a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if refused or not algorithms:
            raise ValueError(f"JWT_ALGORITHMS must list asymmetric algorithms only (RS256, ES256, ...), "
                             f"not {refused or 'nothing'}")
        self.settings = settings
        self.algorithms = list(algorithms)
        self.keys = keys

    async def verify(self, token: str) -> dict[str, Any]:
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
        return claims


def build_verifier(settings: Settings, issuer: DemoIssuer | None) -> TokenVerifier:
    """JWKS keys in production (``JWT_MODE=jwks``), the demo issuer's public key otherwise."""
    if settings.jwt_mode == "jwks":
        return TokenVerifier(settings, JwksKeys(settings.jwks_url, cache_seconds=settings.jwks_cache_seconds))
    if issuer is None:
        raise ValueError("the demo token mode needs the demo issuer")
    return TokenVerifier(settings, StaticKey(issuer.public_key))


async def load_actor(pool: asyncpg.Pool, login: str) -> Actor | None:
    return await load_active_user(pool, login)


def _token_of(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else request.query.get("access_token", "")


async def audit_refusal(audit: AuditLog, pool: asyncpg.Pool, request: web.Request, actor: Actor,
                        exc: AccessDenied | ApiError) -> None:
    """A refusal's audit record, in its own transaction."""
    ctx = exc.audit_context if isinstance(exc, AccessDenied) else {}
    code = exc.code if isinstance(exc, AccessDenied) else exc.error_code
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else request.path
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
        target=f"{request.method} {route}",
        request_id=str(request.get(REQUEST_ID, "")),
        details={"attempted": str(ctx.get("action", ""))} if ctx.get("action") else {},
    )
    metrics.ACCESS_DENIED.labels(reason=code).inc()
    try:
        await audit.record(pool, entry)
    except Exception:
        log.error("refusal_audit_failed", reason=code, exc_info=True)
        raise


def make_auth_middleware(verifier: TokenVerifier, pool_getter: Callable[[], asyncpg.Pool], audit: AuditLog,
                         *, metrics_public: bool = True, metrics_token: str = "") -> Any:
    """``metrics_token`` (METRICS_TOKEN), when set, opens /metrics to that bearer token, and
    /metrics is then never public; else ``metrics_public`` opens it to anyone. Either way an ops
    user's token reads it."""
    metrics_open = metrics_public and not metrics_token

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
        token = _token_of(request)
        if not token:
            metrics.AUTH_FAILURES.labels(reason="missing").inc()
            raise Unauthenticated()
        claims = await verifier.verify(token)
        pool = pool_getter()
        actor = await load_actor(pool, str(claims["sub"]))
        if actor is None:
            metrics.AUTH_FAILURES.labels(reason="unknown_user").inc()
            raise Unauthenticated("The token names no active user.", message_zh="令牌对应的用户不存在或已停用",
                                  code="unknown_user")
        claimed_role = claims.get("role")
        if claimed_role is not None and claimed_role != actor.role:
            metrics.AUTH_FAILURES.labels(reason="role_mismatch").inc()
            raise Unauthenticated("The token's role differs from the user's role.",
                                  message_zh="令牌中的角色与用户角色不符", code="role_mismatch")
        request[ACTOR] = actor
        try:
            if is_metrics:
                if actor.role != "ops":
                    raise AccessDenied("role_not_allowed", "Only operations may read the metrics.",
                                       "仅运维人员可以读取监控指标")
            else:
                check_api_gate(actor, path)
            return await handler(request)
        except AccessDenied as exc:
            await audit_refusal(audit, pool, request, actor, exc)
            raise
        except ApiError as exc:  # a handler's own 403 (Forbidden) is a refusal too
            if exc.status == 403:
                await audit_refusal(audit, pool, request, actor, exc)
            raise

    return authenticate


__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "DemoIssuer",
    "JwksKeys",
    "KeySource",
    "StaticKey",
    "TokenVerifier",
    "audit_refusal",
    "build_verifier",
    "fetch_jwks",
    "load_actor",
    "make_auth_middleware",
]
