"""What every command that talks to the service shares: its exit codes, its bilingual errors,
the bearer token, and the answers of ``/api/v1`` turned into those errors.

Exit codes (``enforcement --help`` prints the same table):

====  =================================================================================
code  meaning
====  =================================================================================
0     done
1     done, and something is wrong: an agency is down, a row or a search was refused
2     usage or bad input (a wrong option, a date that is not YYYY-MM-DD, an unreadable CSV,
      a 400/404/409/422 from the service)
3     the service cannot be reached (connection refused, unknown host, timeout, 5xx)
4     refused: the token is missing, expired or not allowed (401/403)
====  =================================================================================
"""

from __future__ import annotations

import argparse
import os
from datetime import date
from typing import Any

import aiohttp

from enforcement.kernel.settings import Settings

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_REFUSED = 4

EXIT_CODES_HELP = """\
exit codes / 退出码:
  0  done / 成功
  1  done, something is wrong (an agency down, rows, searches or a measure refused) / 已完成，但发现问题
  2  usage or bad input (option, date, amount, CSV, a 400/404/409/422 answer) / 用法或输入有误
  3  the service cannot be reached / 无法连接服务
  4  refused: token missing, expired or not allowed (401/403) / 无权限或令牌无效
"""

DEFAULT_URL = "http://127.0.0.1:8080"


class CliError(Exception):
    """A failure the command explains in both languages and ends with ``exit_code``."""

    def __init__(self, zh: str, en: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en, self.exit_code = zh, en, exit_code

    def __str__(self) -> str:
        return f"错误：{self.zh}\nerror: {self.en}"


def iso_date(text: str) -> date:
    """argparse ``type=``: a calendar date YYYY-MM-DD, or a usage error naming it (exit 2)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} 不是有效日期，应为 YYYY-MM-DD（如 2026-01-31） / "
            f"{text!r} is not a date: use YYYY-MM-DD (e.g. 2026-01-31)") from None


def unreachable(url: str, exc: BaseException) -> CliError:
    os_error = getattr(exc, "os_error", None)
    reason = getattr(os_error, "strerror", None) or str(exc) or type(exc).__name__
    return CliError(f"无法连接服务 {url}（{reason}）；服务是否已启动？请检查 --url 或 ENFORCEMENT_URL",
                    f"cannot reach the service at {url} ({reason}); is it running? check --url or ENFORCEMENT_URL",
                    EXIT_UNREACHABLE)


def refusal(status: int, answer: Any) -> CliError:
    """The service's own error body (``code``, ``message.zh/en``) as a CliError with its exit code."""
    err = answer.get("error", {}) if isinstance(answer, dict) else {}
    message = err.get("message", {}) if isinstance(err.get("message"), dict) else {}
    code = err.get("code") or f"http_{status}"
    zh = message.get("zh") or f"服务答复 {status}"
    en = message.get("en") or f"the service answered {status}"
    if status in (401, 403):
        exit_code = EXIT_REFUSED
    elif status >= 500:
        exit_code = EXIT_UNREACHABLE
    elif 400 <= status < 500:
        exit_code = EXIT_USAGE
    else:
        exit_code = EXIT_FAILURE
    request_id = err.get("request_id")
    suffix = f" [{code}{', request ' + request_id if request_id else ''}]"
    return CliError(f"{zh}（{status}）{suffix}", f"{en} ({status}){suffix}", exit_code)


def demo_role(login: str) -> str:
    from enforcement.seeds import USERS

    return next((role for user, _n, role, *_ in USERS if user == login), "judge")


def bearer_token(args: argparse.Namespace, settings: Settings) -> str:
    """``--token`` / ``ENFORCEMENT_TOKEN`` / ``--token-file``; else the demo issuer's token for ``--user``."""
    if getattr(args, "token", None):
        return str(args.token)
    token_file = getattr(args, "token_file", None) or os.environ.get("ENFORCEMENT_TOKEN_FILE")
    if token_file:
        try:
            with open(token_file, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as exc:
            raise CliError(f"无法读取令牌文件 {token_file}：{exc.strerror}",
                           f"cannot read the token file {token_file}: {exc.strerror}", EXIT_USAGE) from exc
    if settings.jwt_mode != "demo":
        raise CliError("请用 --token 或 ENFORCEMENT_TOKEN 提供身份认证系统签发的令牌",
                       "give a token from the identity provider: --token or ENFORCEMENT_TOKEN", EXIT_USAGE)
    from enforcement.api.auth import DemoIssuer

    return DemoIssuer(settings.data_dir / "keys").issue(settings, args.user, demo_role(args.user))


def add_connection_options(p: argparse.ArgumentParser, *, user: str = "zhangwei") -> None:
    p.add_argument("--user", default=user, help=f"demo user to issue a token for (default {user})")
    p.add_argument("--token", default=os.environ.get("ENFORCEMENT_TOKEN"), help="bearer token (else demo issuer)")
    p.add_argument("--token-file", help="read the bearer token from this file (ENFORCEMENT_TOKEN_FILE)")
    p.add_argument("--url", default=os.environ.get("ENFORCEMENT_URL", DEFAULT_URL),
                   help=f"the service (ENFORCEMENT_URL, default {DEFAULT_URL})")


async def read_json(resp: aiohttp.ClientResponse) -> Any:
    """The body as JSON, or an error naming what came back instead."""
    try:
        return await resp.json(content_type=None)
    except ValueError:
        return {}


async def expect(resp: aiohttp.ClientResponse, *statuses: int) -> Any:
    """The JSON answer when its status is one of ``statuses``; else raise its refusal."""
    answer = await read_json(resp)
    if resp.status not in statuses:
        raise refusal(resp.status, answer)
    return answer


__all__ = [
    "EXIT_CODES_HELP", "EXIT_FAILURE", "EXIT_OK", "EXIT_REFUSED", "EXIT_UNREACHABLE", "EXIT_USAGE",
    "CliError", "add_connection_options", "bearer_token", "demo_role", "expect", "iso_date", "read_json",
    "refusal", "unreachable",
]
