"""``enforcement indicators``: the enforcement indicators as a table, or CSV.

    enforcement indicators --from 2025-01-01 --to 2025-12-31 --court 辽0102 [--by judge] [--csv out.csv]
    enforcement indicators --cases statutory_closure_rate --court 辽0102 [--csv cases.csv]

Reads ``GET /api/v1/indicators`` with the user's token (``--user``, default the demo supervisor
``chenjing``; or ``--token``), so it sees what the API lets that user see (a supervisor their
court, a judge their own figures), and a CSV export is audited like the workbench's.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

import aiohttp

from enforcement.commands import text_table
from enforcement.commands.api_client import add_connection_options, bearer_token, expect, iso_date
from enforcement.kernel.settings import Settings


def _fmt(ind: dict[str, Any], value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.2f}%" if ind["unit"] == "percent" else f"{value:.1f}d"


def _value_cells(ind: dict[str, Any], g: dict[str, Any]) -> list[str]:
    return [_fmt(ind, g["value"]), str(g["numerator"]), str(g["denominator"]), str(g["pulling_down"])]


def print_table(report: dict[str, Any], by: str | None, out: TextIO) -> None:
    """The indicators, and with ``by`` each group under its indicator; columns aligned by display
    width (Chinese names take two cells a character); a judge's row names the judge's court."""
    scope = " ".join(f"{k}={report[k]}" for k in ("court", "judge", "case_type") if report[k])
    out.write(f"指标 / indicators  {report['from']} .. {report['to']}  {scope}\n")
    headers = ["指标 / code", "值 value", "目标 target", "达标 ok", "分子 numerator", "分母 denominator",
               "拖后腿 down", "名称 name"]
    rows: list[list[str]] = []
    for ind in report["indicators"]:
        target = _fmt(ind, ind["target"]) if ind["target"] is not None else "-"
        ok = {True: "yes", False: "NO", None: ""}[ind["meets_target"]]
        cells = _value_cells(ind, ind)
        rows.append([ind["code"], cells[0], target, ok, *cells[1:], ind["name"]["zh"]])
        if by:
            for g in ind[f"by_{by}"]:
                if by == "judge":
                    label = f"{g['judge_name'] or g['judge_login'] or '（未分配 unassigned）'}（{g['court_code']}）"
                else:
                    label = str(g[by])
                cells = _value_cells(ind, g)
                rows.append([f"  {label}", cells[0], "", "", *cells[1:], ""])
    for line in text_table.render(headers, rows, right=(1, 2, 4, 5, 6), max_width=60):
        out.write(line + "\n")


def print_cases(drill: dict[str, Any], out: TextIO) -> None:
    out.write(f"{drill['code']}  {drill['name']['zh']}  {drill['window']['from']} .. {drill['window']['to']}  "
              f"{drill['total']} case(s) pulling it down\n")
    for c in drill["cases"]:
        out.write(f"{c['case_number']}  {c['judge_name'] or c['judge_login'] or '-'}  {c['cause']}  "
                  f"{c['reason']['zh']} / {c['reason']['en']}\n")


async def _run(args: argparse.Namespace, settings: Settings, out: TextIO) -> str | None:
    """Print the table (or the cases) to ``out``; return CSV text instead when ``--csv`` is given.
    Everything goes through the API with the user's token: the court scope is the API's, and a CSV
    export is audited there."""
    query = {k: v for k, v in (("from", args.date_from), ("to", args.to), ("court", args.court),
                                ("judge", args.judge), ("case_type", args.case_type)) if v}
    if args.csv:
        query["format"] = "csv"
    if args.cases:
        path = f"/api/v1/indicators/{quote(args.cases, safe='')}/cases"
        query["limit"] = str(args.limit)
    else:
        path = "/api/v1/indicators"
    headers = {"Authorization": f"Bearer {bearer_token(args, settings)}"}
    started = datetime.now()
    async with aiohttp.ClientSession(headers=headers) as session, \
            session.get(f"{args.url.rstrip('/')}{path}", params={k: str(v) for k, v in query.items()}) as resp:
        if args.csv:
            if resp.status != 200:
                await expect(resp, 200)
            return await resp.text(encoding="utf-8")
        answer = await expect(resp, 200)
    if args.cases:
        print_cases(answer, out)
    else:
        print_table(answer, args.by, out)
        out.write(f"({(datetime.now() - started).total_seconds():.2f} s)\n")
    return None


def cmd_indicators(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    text = asyncio.run(_run(args, settings, sys.stdout))
    if text is not None:
        # With one BOM (the API's answer carries it; Excel on Chinese Windows reads UTF-8 only then).
        Path(args.csv).write_text(text.removeprefix("\ufeff"), encoding="utf-8-sig")
        print(f"{text.count(chr(10)) - 1} row(s) written to {args.csv} / 已导出")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("indicators", help="enforcement indicators (table or CSV) / 执行指标")
    p.add_argument("--from", dest="date_from", type=iso_date, help="window start YYYY-MM-DD (default: 1 January)")
    p.add_argument("--to", type=iso_date, help="window end YYYY-MM-DD (default: today)")
    p.add_argument("--court", help="court code, e.g. 辽0102 (a supervisor: their own court)")
    p.add_argument("--judge", help="judge login")
    p.add_argument("--case-type", dest="case_type", choices=["执", "执恢", "执保", "执异", "执复"])
    p.add_argument("--by", choices=["court", "judge", "case_type"], help="also show each group")
    p.add_argument("--cases", metavar="CODE", help="list the cases that pull this indicator down")
    p.add_argument("--limit", type=int, default=100, help="with --cases: at most this many")
    p.add_argument("--csv", metavar="PATH", help="write CSV here instead of printing a table (audited as an export)")
    add_connection_options(p, user="chenjing")
    p.set_defaults(func=cmd_indicators)


__all__ = ["print_cases", "print_table", "register"]
