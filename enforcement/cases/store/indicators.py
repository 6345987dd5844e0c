"""Indicator storage: the registered definitions and the two queries every indicator answers
(totals by court, judge and case type; the items that pull it down), run over the indicator's
SQL function. The function's name comes from ``indicator_definition``; it is checked against a
strict identifier pattern and quoted before it is put into the statement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from enforcement.cases.store.lifecycle import Conn
from enforcement.kernel.queries import Q

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class UnknownIndicatorFunction(ValueError):
    """An indicator names a function that does not exist or is not a plain identifier."""


def _with_function(statement: str, function_name: str) -> str:
    if not _IDENT.match(function_name):
        raise UnknownIndicatorFunction(f"indicator function {function_name!r} is not a plain identifier")
    return statement.replace("{function}", f'"{function_name}"')


async def definitions(conn: Conn) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q.indicator_definitions)]


async def function_exists(conn: Conn, function_name: str) -> bool:
    if not _IDENT.match(function_name):
        return False
    return bool(await conn.fetchval(Q.indicator_function_exists, function_name))


async def totals(conn: Conn, function_name: str, window: tuple[date, date], *, court: str | None,
                 judge: str | None, case_type: str | None) -> list[dict[str, Any]]:
    sql = _with_function(Q.indicator_totals, function_name)
    return [dict(r) for r in await conn.fetch(sql, window[0], window[1], court, judge, case_type)]


async def pulling_down(conn: Conn, function_name: str, window: tuple[date, date], *, court: str | None,
                       judge: str | None, case_type: str | None, limit: int, offset: int
                       ) -> tuple[list[dict[str, Any]], int]:
    sql = _with_function(Q.indicator_cases, function_name)
    rows = await conn.fetch(sql, window[0], window[1], court, judge, case_type, limit, offset)
    return [dict(r) for r in rows], int(rows[0]["total"]) if rows else 0


async def court_codes(conn: Conn) -> list[str]:
    return [str(r["code"]) for r in await conn.fetch(Q.court_codes)]


async def judge_names(conn: Conn, logins: Sequence[str]) -> dict[str, str]:
    return {str(r["login"]): str(r["display_name"]) for r in await conn.fetch(Q.judge_names, list(logins))}


__all__ = ["UnknownIndicatorFunction", "court_codes", "definitions", "function_exists", "judge_names",
           "pulling_down", "totals"]
