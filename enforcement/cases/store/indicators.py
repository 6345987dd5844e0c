"""Indicator storage: the registered definitions and the two queries every indicator answers
(totals by court, judge and case type; the items that pull it down), run over the indicator's
SQL function. The function's name comes from ``indicator_definition``; it is checked against a
strict identifier pattern and quoted before it is put into the statement.

``IndicatorStore`` runs each read on the pool (no transaction spans two of them) and writes the
audit record of an export in its own transaction; it returns frozen values, never driver rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import asyncpg

from enforcement.cases.errors import UnknownIndicatorFunction
from enforcement.domain.audit import AuditEntry
from enforcement.kernel.audit import AuditLog
from enforcement.kernel.queries import Q

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True)
class DefinitionRow:
    code: str
    position: int
    name_zh: str
    name_en: str
    function_name: str
    kind: str
    unit: str
    core: bool
    target: Decimal | None
    higher_is_better: bool
    window_years: int | None
    enabled: bool
    description: str

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> DefinitionRow:
        return cls(r["code"], int(r["position"]), r["name_zh"], r["name_en"], r["function_name"], r["kind"],
                   r["unit"], bool(r["core"]), r["target"], bool(r["higher_is_better"]), r["window_years"],
                   bool(r["enabled"]), r["description"])


@dataclass(frozen=True, slots=True)
class TotalRow:
    """One grouping set of ``indicator_totals`` (``g_*`` 1 where the column is rolled up)."""

    court_code: str | None
    judge_login: str | None
    case_type: str | None
    g_court: int
    g_judge: int
    g_type: int
    numerator: Decimal | None
    denominator: Decimal | None
    items: int
    pulling_down: int

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> TotalRow:
        return cls(r["court_code"], r["judge_login"], r["case_type"], int(r["g_court"]), int(r["g_judge"]),
                   int(r["g_type"]), r["numerator"], r["denominator"], int(r["items"]), int(r["pulling_down"]))


@dataclass(frozen=True, slots=True)
class PullingDown:
    """An item that pulls an indicator down, with its case and the reason."""

    case_id: int
    case_number: str
    court_code: str
    judge_login: str | None
    judge_name: str | None
    case_type: str
    cause: str
    numerator: Decimal | None
    denominator: Decimal | None
    reason_zh: str
    reason_en: str

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> PullingDown:
        return cls(int(r["case_id"]), r["case_number"], r["court_code"], r["judge_login"], r["judge_name"],
                   r["case_type"], r["cause"], r["numerator"], r["denominator"], r["reason_zh"], r["reason_en"])


def _with_function(statement: str, function_name: str) -> str:
    if not _IDENT.match(function_name):
        raise UnknownIndicatorFunction(f"indicator function {function_name!r} is not a plain identifier")
    return statement.replace("{function}", f'"{function_name}"')


class IndicatorStore:
    """The indicators' store."""

    def __init__(self, pool: asyncpg.Pool, audit: AuditLog | None = None) -> None:
        self.pool = pool
        self.audit_log = audit

    async def definitions(self) -> list[DefinitionRow]:
        return [DefinitionRow.from_row(r) for r in await self.pool.fetch(Q.indicator_definitions)]

    async def function_exists(self, function_name: str) -> bool:
        if not _IDENT.match(function_name):
            return False
        return bool(await self.pool.fetchval(Q.indicator_function_exists, function_name))

    async def totals(self, function_name: str, window: tuple[date, date], *, court: str | None,
                     judge: str | None, case_type: str | None) -> list[TotalRow]:
        sql = _with_function(Q.indicator_totals, function_name)
        return [TotalRow.from_row(r) for r in await self.pool.fetch(sql, window[0], window[1], court, judge, case_type)]

    async def pulling_down(self, function_name: str, window: tuple[date, date], *, court: str | None,
                           judge: str | None, case_type: str | None, limit: int, offset: int
                           ) -> tuple[list[PullingDown], int]:
        sql = _with_function(Q.indicator_cases, function_name)
        rows = await self.pool.fetch(sql, window[0], window[1], court, judge, case_type, limit, offset)
        return [PullingDown.from_row(r) for r in rows], int(rows[0]["total"]) if rows else 0

    async def court_codes(self) -> list[str]:
        return [str(r["code"]) for r in await self.pool.fetch(Q.court_codes)]

    async def judge_names(self, logins: Sequence[str]) -> dict[str, str]:
        return {str(r["login"]): str(r["display_name"]) for r in await self.pool.fetch(Q.judge_names, list(logins))}

    @property
    def audits(self) -> bool:
        return self.audit_log is not None

    async def record_audit(self, entry: AuditEntry) -> None:
        """An audit record in its own transaction (an export); nothing without the audit log."""
        if self.audit_log is not None:
            await self.audit_log.record(self.pool, entry)


__all__ = ["DefinitionRow", "IndicatorStore", "PullingDown", "TotalRow", "UnknownIndicatorFunction"]
