"""Indicator computation: every registered indicator over a window, for a court, a judge or a case
type, with the items that pull each one down.

An indicator is a SQL function ``(p_from date, p_to date)`` registered in ``indicator_definition``
(migration 0003, docs/indicators.md); this module only sums its rows: value = sum(numerator) /
sum(denominator), for the whole scope and per court, judge and case type (GROUPING SETS, one
query per indicator, the indicators in parallel). Before computing, cases whose derived
lifecycle is stale are brought up to date (``LifecycleService.reconcile``).
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from enforcement.cases.errors import IndicatorNotFound, InvalidWindow
from enforcement.cases.lifecycle import LifecycleService
from enforcement.cases.store.indicators import DefinitionRow, IndicatorStore, TotalRow
from enforcement.domain.actors import Actor
from enforcement.domain.audit import AuditEntry
from enforcement.domain.authorization import indicator_scope
from enforcement.domain.lifecycle import add_months
from enforcement.kernel.settings import Settings

RECONCILE_BEFORE_COMPUTE = 2000


@dataclass(frozen=True, slots=True)
class Definition:
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
    def from_row(cls, r: DefinitionRow) -> Definition:
        return cls(r.code, r.position, r.name_zh, r.name_en, r.function_name, r.kind, r.unit, r.core, r.target,
                   r.higher_is_better, r.window_years, r.enabled, r.description)

    def window(self, date_from: date, date_to: date) -> tuple[date, date]:
        """The window the indicator is computed over: the asked one, or the last ``window_years``."""
        if self.window_years:
            return add_months(date_to, -12 * self.window_years) + timedelta(days=1), date_to
        return date_from, date_to


@dataclass(frozen=True, slots=True)
class IndicatorChoices:
    """The court's choices where the law leaves one open (settings; docs/indicators.md §6)."""

    petitions_before_window: bool = False  # petitions received before the window and closed in it counted
    overall_window_years: int = 3          # 整体结案率: the three years (default) or one year ending at "to"

    @classmethod
    def from_settings(cls, s: Settings) -> IndicatorChoices:
        return cls(s.petitions_before_window, s.overall_closure_window_years)

    def apply(self, d: Definition) -> Definition:
        """The definition as the court chose: the petition function with carried-over petitions,
        the overall closure rate's window. A court's own function (renamed) is left alone."""
        if d.code == "petition_closure_rate" and self.petitions_before_window \
                and d.function_name == "ind_petition_closure_rate":
            return replace(d, function_name="ind_petition_closure_rate_carried")
        if d.code in ("overall_closure_rate", "overall_closure_rate_alt") and d.window_years:
            return replace(d, window_years=self.overall_window_years)
        return d


@dataclass(frozen=True, slots=True)
class Scope:
    date_from: date
    date_to: date
    court: str | None = None
    judge: str | None = None
    case_type: str | None = None


def scope_for(actor: Actor | None, s: Scope) -> Scope:
    """What the actor may see: a supervisor their court, a judge their own figures."""
    if s.date_from > s.date_to:
        raise InvalidWindow()
    if actor is None:
        return s
    bound = indicator_scope(actor, court_code=s.court, judge_login=s.judge)
    return Scope(s.date_from, s.date_to, bound.court_code, bound.judge_login, s.case_type)


def _num(d: Decimal | None) -> str:
    if d is None:
        return "0"
    return str(int(d)) if d == d.to_integral_value() else f"{d:.2f}"


def _value(kind: str, numerator: Decimal, denominator: Decimal) -> float | None:
    if not denominator:
        return None
    v = numerator / denominator
    return round(float(v), 6 if kind == "ratio" else 2)


def _meets(d: Definition, value: float | None) -> bool | None:
    if d.target is None or value is None:
        return None
    return value >= float(d.target) if d.higher_is_better else value <= float(d.target)


def _group(r: TotalRow, kind: str, names: dict[str, str]) -> dict[str, Any]:
    num, den = r.numerator or Decimal(0), r.denominator or Decimal(0)
    return {"court_code": r.court_code, "judge_login": r.judge_login,
            "judge_name": names.get(r.judge_login or "") if r.judge_login else None,
            "case_type": r.case_type, "value": _value(kind, num, den), "numerator": _num(num),
            "denominator": _num(den), "items": r.items, "pulling_down": r.pulling_down}


class IndicatorService:
    """The enforcement indicators. Built on an ``IndicatorStore`` (and the lifecycle service, to
    bring stale cases up to date before computing)."""

    def __init__(self, store: IndicatorStore, lifecycle: LifecycleService | None = None,
                 choices: IndicatorChoices | None = None) -> None:
        self.store = store
        self.lifecycle = lifecycle
        self.choices = choices or IndicatorChoices()

    async def definitions(self, *, include_disabled: bool = False) -> list[Definition]:
        """The registered indicators in display order (the enabled ones unless ``include_disabled``).
        No authorization: definitions are public to every caller of the service."""
        defs = [self.choices.apply(Definition.from_row(r)) for r in await self.store.definitions()]
        return [d for d in defs if d.enabled or include_disabled]

    async def court_codes(self) -> list[str]:
        """Every court (for the per-court gauges)."""
        return await self.store.court_codes()

    async def definition(self, code: str) -> Definition:
        """One indicator, enabled or not. Raises ``IndicatorNotFound`` (404)."""
        for d in await self.definitions(include_disabled=True):
            if d.code == code:
                return d
        raise IndicatorNotFound(f"No indicator {code!r}.", message_zh=f"指标 {code} 不存在")

    async def _reconcile(self, court: str | None) -> None:
        if self.lifecycle is not None:
            await self.lifecycle.reconcile(court=court, limit=RECONCILE_BEFORE_COMPUTE)

    async def compute(self, actor: Actor | None, scope: Scope, *, codes: Sequence[str] | None = None,
                      reconcile: bool = True) -> dict[str, Any]:
        """Every enabled indicator (or those of ``codes``) over the scope's window: the value, its
        target, and the same by court, judge and case type. Stale lifecycles are reconciled
        first unless ``reconcile`` is False.

        Who: a supervisor for their court, a judge for their own figures (``scope_for`` narrows
        the scope); ``actor`` None is the system (gauges, the CLI). Raises ``InvalidWindow``
        (422), ``AccessDenied`` (403)."""
        s = scope_for(actor, scope)
        if reconcile:
            await self._reconcile(s.court)
        defs = [d for d in await self.definitions(include_disabled=codes is not None)
                if codes is None or d.code in codes]
        results = await asyncio.gather(*(self._one(d, s) for d in defs))
        return {"from": s.date_from.isoformat(), "to": s.date_to.isoformat(), "court": s.court, "judge": s.judge,
                "case_type": s.case_type, "indicators": list(results)}

    async def _one(self, d: Definition, s: Scope) -> dict[str, Any]:
        window = d.window(s.date_from, s.date_to)
        rows = await self.store.totals(d.function_name, window, court=s.court, judge=s.judge, case_type=s.case_type)
        names = await self.store.judge_names(sorted({r.judge_login for r in rows if r.judge_login}))
        total_row = next((r for r in rows if r.g_court == 1), None)
        if s.court is not None:
            total_row = next((r for r in rows if r.g_court == 0 and r.g_judge == 1 and r.g_type == 1), total_row)
        num = total_row.numerator if total_row and total_row.numerator is not None else Decimal(0)
        den = total_row.denominator if total_row and total_row.denominator is not None else Decimal(0)
        value = _value(d.kind, num, den)
        return {
            "code": d.code, "name": {"zh": d.name_zh, "en": d.name_en}, "kind": d.kind, "unit": d.unit,
            "core": d.core, "target": float(d.target) if d.target is not None else None,
            "higher_is_better": d.higher_is_better, "function": d.function_name, "description": d.description,
            "window": {"from": window[0].isoformat(), "to": window[1].isoformat()},
            "value": value, "numerator": _num(num), "denominator": _num(den),
            "items": total_row.items if total_row else 0,
            "pulling_down": total_row.pulling_down if total_row else 0,
            "meets_target": _meets(d, value),
            "by_court": [_group(r, d.kind, names) for r in rows if r.g_court == 0 and r.g_judge == 1 and r.g_type == 1],
            "by_judge": [_group(r, d.kind, names) for r in rows if r.g_judge == 0],
            "by_case_type": [_group(r, d.kind, names) for r in rows if r.g_type == 0],
        }

    async def cases(self, actor: Actor | None, code: str, scope: Scope, *, limit: int = 100,
                    offset: int = 0) -> dict[str, Any]:
        """The items that pull an indicator down, with their case and the reason (one page).

        Who: as ``compute``. Raises ``InvalidWindow`` (422), ``AccessDenied`` (403),
        ``IndicatorNotFound`` (404)."""
        s = scope_for(actor, scope)
        d = await self.definition(code)
        window = d.window(s.date_from, s.date_to)
        rows, total = await self.store.pulling_down(d.function_name, window, court=s.court, judge=s.judge,
                                                    case_type=s.case_type, limit=limit, offset=offset)
        return {
            "code": d.code, "name": {"zh": d.name_zh, "en": d.name_en},
            "window": {"from": window[0].isoformat(), "to": window[1].isoformat()},
            "court": s.court, "judge": s.judge, "case_type": s.case_type,
            "total": total, "limit": limit, "offset": offset,
            "cases": [{"case_id": r.case_id, "case_number": r.case_number, "court_code": r.court_code,
                       "judge_login": r.judge_login, "judge_name": r.judge_name, "case_type": r.case_type,
                       "cause": r.cause, "numerator": _num(r.numerator), "denominator": _num(r.denominator),
                       "reason": {"zh": r.reason_zh, "en": r.reason_en}} for r in rows],
        }

    async def audit_export(self, actor: Actor, what: str, scope: Scope, rows: int, request_id: str = "") -> None:
        """Record an export (CSV) of indicators or their cases in the audit trail, in its own
        transaction; nothing when the store has no audit log. The caller has already authorized
        the read (``compute``/``cases``). Raises nothing of its own."""
        if not self.store.audits:
            return
        await self.store.record_audit(AuditEntry(
            action="export", actor_login=actor.login, actor_role=str(actor.role), actor_court=actor.court_code,
            case_court=scope.court, target=what, request_id=request_id,
            details={"format": "csv", "from": scope.date_from.isoformat(), "to": scope.date_to.isoformat(),
                     "court": scope.court, "judge": scope.judge, "case_type": scope.case_type, "rows": rows}))


CSV_COLUMNS = ("indicator", "name_zh", "name_en", "window_from", "window_to", "level", "court_code", "judge_login",
               "judge_name", "case_type", "value", "numerator", "denominator", "items", "pulling_down", "target",
               "meets_target")
CASES_CSV_COLUMNS = ("indicator", "case_number", "court_code", "judge_login", "judge_name", "case_type", "cause",
                     "numerator", "denominator", "reason_zh", "reason_en")


def report_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ind in report["indicators"]:
        base = {"indicator": ind["code"], "name_zh": ind["name"]["zh"], "name_en": ind["name"]["en"],
                "window_from": ind["window"]["from"], "window_to": ind["window"]["to"], "target": ind["target"]}
        out.append({**base, "level": "total", "court_code": report["court"], "judge_login": report["judge"],
                    "case_type": report["case_type"], "value": ind["value"], "numerator": ind["numerator"],
                    "denominator": ind["denominator"], "items": ind["items"], "pulling_down": ind["pulling_down"],
                    "meets_target": ind["meets_target"]})
        for level, key in (("court", "by_court"), ("judge", "by_judge"), ("case_type", "by_case_type")):
            for g in ind[key]:
                out.append({**base, "level": level, **{k: g[k] for k in (
                    "court_code", "judge_login", "judge_name", "case_type", "value", "numerator", "denominator",
                    "items", "pulling_down")}, "meets_target": None})
    return out


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: "" if r.get(k) is None else r.get(k) for k in columns})
    return buf.getvalue()


def cases_rows(drill: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"indicator": drill["code"], **{k: c[k] for k in ("case_number", "court_code", "judge_login", "judge_name",
                                                             "case_type", "cause", "numerator", "denominator")},
             "reason_zh": c["reason"]["zh"], "reason_en": c["reason"]["en"]} for c in drill["cases"]]


__all__ = [
    "CASES_CSV_COLUMNS", "CSV_COLUMNS", "Definition", "IndicatorChoices", "IndicatorService", "Scope", "cases_rows",
    "report_rows", "scope_for", "to_csv",
]
