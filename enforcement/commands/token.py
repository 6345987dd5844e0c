"""``enforcement token issue --user LOGIN``: a demo-issuer token for a seeded user (any role:
``zhangwei`` a judge, ``chenjing`` a supervisor, ``ops``, ``cms-0102`` a court's case system).
The token carries the user's role as the database has it; only in ``JWT_MODE=demo``."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from enforcement.kernel.settings import Settings


async def _role_of(settings: Settings, login: str) -> str | None:
    from enforcement.kernel.pool import create_pool, resolve_database_url
    from enforcement.kernel.users import load_active_user

    dsn = await asyncio.get_running_loop().run_in_executor(None, resolve_database_url, settings)
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        actor = await load_active_user(pool, login)
        return actor.role if actor else None
    finally:
        await pool.close()


def cmd_token_issue(args: argparse.Namespace) -> int:
    from enforcement.api.auth import DemoIssuer

    settings = Settings.from_env()
    if settings.jwt_mode != "demo":
        print("JWT_MODE is not demo: tokens come from the court's identity provider / 生产模式下令牌由身份认证系统签发")
        return 2
    role = asyncio.run(_role_of(settings, args.user))
    if role is None:
        print(f"no active user {args.user!r} / 用户不存在或已停用")
        return 2
    issuer = DemoIssuer(settings.data_dir / "keys")
    try:
        token = issuer.issue(settings, args.user, role, ttl_seconds=args.ttl)
    except ValueError as exc:  # beyond JWT_MAX_LIFETIME_SECONDS: the service would refuse the token
        print(f"{exc} / 令牌有效期须在 1 至 {settings.jwt_max_lifetime_seconds} 秒之间")
        return 2
    print(token)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("token", help="tokens of the demo issuer")
    tsub = p.add_subparsers(dest="token_command", required=True)
    issue = tsub.add_parser("issue", help="print a bearer token for a user")
    issue.add_argument("--user", required=True)
    issue.add_argument("--ttl", type=int, default=8 * 3600,
                       help="seconds, at most JWT_MAX_LIFETIME_SECONDS (12 h by default)")
    issue.set_defaults(func=cmd_token_issue)
