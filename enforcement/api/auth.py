"""Bearer-token authentication: verify the JWT, then load the user it names.

Production verifies tokens of the court's identity provider (keys from a JWKS file or URL); the
demo has its own issuer, whose RSA key pair lives in the data folder. The accepted algorithms
come from configuration, never from the token.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from enforcement.api.errors import Unauthenticated
from enforcement.api.keys import ACTOR
from enforcement.domain.actors import Actor
from enforcement.settings import Settings

# /api/v1/demo/: the workbench demo sign-in (issue 6), which refuses itself unless JWT_MODE=demo.
PUBLIC_PREFIXES = ("/healthz", "/readyz", "/metrics", "/static/", "/favicon.ico", "/api/v1/demo/")
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
        self.public_key = self.private_key.public_key()  # type: ignore[union-attr]

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


class TokenVerifier:
    def __init__(self, settings: Settings, key: Any) -> None:
        self.settings = settings
        self.key = key

    def verify(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.key,
                algorithms=list(self.settings.jwt_algorithms),
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("The token has expired.", message_zh="令牌已过期", code="token_expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(
                f"The token is invalid: {type(exc).__name__}.", message_zh="令牌无效", code="token_invalid"
            ) from exc
        return claims


async def load_actor(pool: asyncpg.Pool, login: str) -> Actor | None:
    row = await pool.fetchrow(
        "SELECT login, role, display_name, court_code, officer_id, agency FROM app_user WHERE login = $1 AND active",
        login,
    )
    if row is None:
        return None
    return Actor(row["login"], row["role"], row["display_name"], row["court_code"], row["officer_id"], row["agency"])


def make_auth_middleware(verifier: TokenVerifier, pool_getter: Callable[[], asyncpg.Pool]) -> Any:
    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.startswith(PUBLIC_PREFIXES) or path.endswith("/callbacks") or not path.startswith("/api/"):
            return await handler(request)
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else request.query.get("access_token", "")
        if not token:
            raise Unauthenticated()
        claims = verifier.verify(token)
        actor = await load_actor(pool_getter(), str(claims["sub"]))
        if actor is None:
            raise Unauthenticated("The token names no active user.", message_zh="令牌对应的用户不存在或已停用",
                                  code="unknown_user")
        request[ACTOR] = actor
        return await handler(request)

    return authenticate


__all__ = ["DemoIssuer", "TokenVerifier", "load_actor", "make_auth_middleware"]
