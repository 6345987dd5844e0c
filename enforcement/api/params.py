"""Query-string parameters, parsed one way everywhere: a bad value is a 422 with code
``invalid_parameter``, the parameter's name, and a message in Chinese and English.

``check_query_text`` runs for every request (the error middleware calls it before the handler):
a NUL character or a lone surrogate in any parameter's name or value, which PostgreSQL cannot
take as text, is refused there, so no filter reaches the database with one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import overload

from aiohttp import web

from enforcement.api.errors import ValidationFailed


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


__all__ = ["check_query_text", "query_bool", "query_choice", "query_date", "query_int", "query_time"]
