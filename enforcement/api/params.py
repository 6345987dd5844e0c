"""Query-string and path parameters, parsed one way everywhere.

A bad query value is a 422 with code ``invalid_parameter``, the parameter's name, and a message in
Chinese and English. A bad path id is the route's own 404 (``case_not_found``, ...): an id that
cannot exist is answered like one that does not, before any database round trip or access check.
Path ids are 1-19 ASCII digits without a leading zero, at most 2**63 - 1 (a PostgreSQL bigint);
Python's ``int`` would also take ``１`` (full-width), ``1_0``, `` 1`` and ``+1``. UUIDs are the
canonical 8-4-4-4-12 hex form (either case); ``UUID()`` would also take braces, ``urn:uuid:``,
no hyphens and full-width digits.

``check_query_text`` runs for every request (the error middleware calls it before the handler):
a NUL character or a lone surrogate in any parameter's name or value, which PostgreSQL cannot
take as text, is refused there, so no filter reaches the database with one."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import overload
from uuid import UUID

from aiohttp import web

from enforcement.api.errors import NotFound, ValidationFailed

PATH_ID_MAX = 2**63 - 1
_PATH_ID = re.compile(r"[1-9][0-9]{0,18}", re.ASCII)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII)
# What each path parameter names: its not-found code and messages.
_WHAT: dict[str, tuple[str, str, str]] = {
    "case_id": ("case_not_found", "No such case.", "案件不存在"),
    "alert_id": ("alert_not_found", "No such alert.", "提醒不存在"),
    "search_id": ("search_not_found", "No such search.", "查询记录不存在"),
    "batch_id": ("batch_not_found", "No such bulk search.", "批量查询不存在"),
    "measure_id": ("measure_not_found", "No such measure.", "控制措施不存在"),
}


def check_query_text(request: web.Request) -> None:
    for name, value in request.query.items():
        for text in (name, value):
            if "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text):
                shown = "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in name)[:64]
                raise _invalid(shown, "must not contain a NUL character or a lone surrogate.",
                               "不得含有 NUL 字符或不成对的代理字符")


def _invalid(name: str, en: str, zh: str) -> ValidationFailed:
    return ValidationFailed(f"{name} {en}", message_zh=f"{name} {zh}", code="invalid_parameter", parameter=name)


@overload
def query_int(request: web.Request, name: str, *, default: int, high: int, low: int = 0) -> int: ...
@overload
def query_int(request: web.Request, name: str, *, default: None, high: int, low: int = 0) -> int | None: ...
def query_int(request: web.Request, name: str, *, default: int | None, high: int, low: int = 0) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise _invalid(name, f"must be an integer from {low} to {high}.", f"须为 {low} 至 {high} 的整数") from exc
    if not low <= value <= high:
        raise _invalid(name, f"must be an integer from {low} to {high}.", f"须为 {low} 至 {high} 的整数")
    return value


def query_date(request: web.Request, name: str) -> date | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise _invalid(name, "must be a date YYYY-MM-DD.", "须为日期 YYYY-MM-DD") from exc


def query_time(request: web.Request, name: str) -> datetime | None:
    """An ISO 8601 date or time; a time without a zone is taken as UTC."""
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _invalid(name, "must be an ISO 8601 date or time.", "须为 ISO 8601 日期或时间") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def query_bool(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise _invalid(name, "must be true or false.", "须为 true 或 false")


def query_choice(request: web.Request, name: str, allowed: Sequence[str]) -> str | None:
    value = request.query.get(name) or None
    if value is not None and value not in allowed:
        raise _invalid(name, f"must be one of {', '.join(allowed)}.", f"须为 {'、'.join(allowed)} 之一")
    return value


def _not_found(name: str) -> NotFound:
    code, en, zh = _WHAT.get(name, ("not_found", "No such resource.", "资源不存在"))
    return NotFound(en, message_zh=zh, code=code)


def parse_path_id(raw: str) -> int | None:
    """``raw`` as a path id, or None when it is not one (see the module's docstring)."""
    if _PATH_ID.fullmatch(raw) is None:
        return None
    value = int(raw)
    return value if value <= PATH_ID_MAX else None


def path_id(request: web.Request, name: str) -> int:
    """The integer id in the path parameter ``name``; the route's 404 when it cannot be an id."""
    value = parse_path_id(request.match_info.get(name, ""))
    if value is None:
        raise _not_found(name)
    return value


def path_uuid(request: web.Request, name: str) -> UUID:
    """The UUID in the path parameter ``name``, in its canonical form only; else the route's 404."""
    raw = request.match_info.get(name, "")
    if _UUID.fullmatch(raw) is None:
        raise _not_found(name)
    return UUID(raw)


__all__ = ["PATH_ID_MAX", "check_query_text", "parse_path_id", "path_id", "path_uuid", "query_bool", "query_choice",
           "query_date", "query_int", "query_time"]
