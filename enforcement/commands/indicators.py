"""``enforcement indicators``: the enforcement indicators as a table, or CSV.

    enforcement indicators --from 2025-01-01 --to 2025-12-31 --court 辽0102 [--by judge] [--csv out.csv]
    enforcement indicators --cases statutory_closure_rate --court 辽0102 [--csv cases.csv]

Runs with the database's own credentials (an operator's tool), so it is not limited to one court.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from enforcement.kernel.settings import Settings


def _fmt(ind: dict[str, Any], value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.2f}%" if ind["unit"] == "percent" else f"{value:.1f}d"


def print_table(report: dict[str, Any], by: str | None, out: TextIO) -> None:
    scope = " ".join(f"{k}={report[k]}" for k in ("court", "judge", "case_type") if report[k])
    out.write(f"指标 / indicators  {report['from']} .. {report['to']}  {scope}\n")
    header = (f"{'code':<28} {'value':>9} {'target':>8} {'ok':>3} {'numerator':>16} {'denominator':>16} "
              f"{'down':>6}  name\n")
    out.write(header)
    out.write("-" * (len(header) + 10) + "\n")
    for ind in report["indicators"]:
        target = _fmt(ind, ind["target"]) if ind["target"] is not None else "-"
        ok = {True: "yes", False: "NO", None: ""}[ind["meets_target"]]
        out.write(f"{ind['code']:<28} {_fmt(ind, ind['value']):>9} {target:>8} {ok:>3} {ind['numerator']:>16} "
                  f"{ind['denominator']:>16} {ind['pulling_down']:>6}  {ind['name']['zh']}\n")
        if by:
            for g in ind[f"by_{by}"]:
                label = g["judge_name"] or g["judge_login"] if by == "judge" else g[by]
                out.write(f"  {label!s:<26} {_fmt(ind, g['value']):>9} {'':>8} {'':>3} {g['numerator']:>16} "
                          f"{g['denominator']:>16} {g['pulling_down']:>6}\n")


def print_cases(drill: dict[str, Any], out: TextIO) -> None:
    out.write(f"{drill['code']}  {drill['name']['zh']}  {drill['window']['from']} .. {drill['window']['to']}  "
              f"{drill['total']} case(s) pulling it down\n")
    for c in drill["cases"]:
        out.write(f"{c['case_number']}  {c['judge_name'] or c['judge_login'] or '-'}  {c['cause']}  "
                  f"{c['reason']['zh']} / {c['reason']['en']}\n")


async def _run(args: argparse.Namespace, settings: Settings, out: TextIO) -> str | None:
    """Print the table (or the cases) to ``out``; return CSV text instead when ``--csv`` is given."""
    from connectors.sdk.registry import Registry
    from enforcement.cases.indicators import (
        CASES_CSV_COLUMNS,
        CSV_COLUMNS,
        IndicatorChoices,
        IndicatorService,
        Scope,
        cases_rows,
        report_rows,
        to_csv,
    )
    from enforcement.cases.lifecycle import LifecycleRules, LifecycleService
    from enforcement.cases.store.indicators import IndicatorStore
    from enforcement.cases.store.lifecycle import LifecycleStore
    from enforcement.kernel.pool import create_pool, resolve_database_url

    dsn = await asyncio.get_running_loop().run_in_executor(None, resolve_database_url, settings)
    pool = await create_pool(dsn, min_size=1, max_size=6)
    try:
        categories = {n: spec.manifest.search_category for n, spec in Registry.discover().items()}
        lifecycle = LifecycleService(LifecycleStore(pool), LifecycleRules.from_settings(settings), categories)
        service = IndicatorService(IndicatorStore(pool), lifecycle, IndicatorChoices.from_settings(settings))
        today = date.today()
        date_to = date.fromisoformat(args.to) if args.to else today
        date_from = date.fromisoformat(args.date_from) if args.date_from else date(date_to.year, 1, 1)
        scope = Scope(date_from, date_to, args.court, args.judge, args.case_type)
        if args.cases:
            drill = await service.cases(None, args.cases, scope, limit=args.limit)
            if args.csv:
                return to_csv(cases_rows(drill), CASES_CSV_COLUMNS)
            print_cases(drill, out)
            return None
        started = datetime.now()
        report = await service.compute(None, scope, reconcile=not args.no_reconcile)
        if args.csv:
            return to_csv(report_rows(report), CSV_COLUMNS)
        print_table(report, args.by, out)
        out.write(f"({(datetime.now() - started).total_seconds():.2f} s)\n")
        return None
    finally:
        await pool.close()


def cmd_indicators(args: argparse.Namespace) -> int:
    from enforcement.kernel.logging import configure_logging

    settings = Settings.from_env()
    configure_logging(settings.log_level, json_output=settings.log_json)
    text = asyncio.run(_run(args, settings, sys.stdout))
    if text is not None:
        Path(args.csv).write_text(text, encoding="utf-8")
        print(f"{text.count(chr(10)) - 1} row(s) written to {args.csv}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("indicators", help="enforcement indicators (table or CSV) / 执行指标")
    p.add_argument("--from", dest="date_from", help="window start YYYY-MM-DD (default: 1 January)")
    p.add_argument("--to", help="window end YYYY-MM-DD (default: today)")
    p.add_argument("--court", help="court code, e.g. 辽0102")
    p.add_argument("--judge", help="judge login")
    p.add_argument("--case-type", dest="case_type", choices=["执", "执恢", "执保", "执异", "执复"])
    p.add_argument("--by", choices=["court", "judge", "case_type"], help="also show each group")
    p.add_argument("--cases", metavar="CODE", help="list the cases that pull this indicator down")
    p.add_argument("--limit", type=int, default=100, help="with --cases: at most this many")
    p.add_argument("--csv", metavar="PATH", help="write CSV here instead of printing a table")
    p.add_argument("--no-reconcile", action="store_true", help="do not bring stale case lifecycles up to date first")
    p.set_defaults(func=cmd_indicators)


__all__ = ["print_cases", "print_table", "register"]
